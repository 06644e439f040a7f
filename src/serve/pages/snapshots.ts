/**
 * Snapshots: the list, one snapshot's entries with its tar, and the diff of
 * two snapshots whose changed keys link to their version diffs.
 */
import type { EnhancedStateManager } from '../../manager/EnhancedStateManager.js';
import { NotFoundError } from '../../errors.js';
import { parseFullKey } from '../../model/keys.js';
import type { SnapshotMetadata } from '../../model/types.js';
import { formatBytes, href, html, name, type Html } from '../html.js';
import { renderPage } from '../layout.js';
import { required, type Query } from '../query.js';

export async function renderSnapshotsPage(manager: EnhancedStateManager): Promise<string> {
  const snapshots = await manager.listSnapshots();
  const options = (selected: string | undefined) =>
    snapshots.map((s) => html`<option value="${s.snapshotId}" ${s.snapshotId === selected ? html`selected` : ''}>${s.snapshotId}</option>`);
  const compare =
    snapshots.length < 2
      ? ''
      : html`<form class="filters" method="get" action="/snapshots/diff" id="snapshot-compare">
  <label>From<select name="from">${options(snapshots[1]!.snapshotId)}</select></label>
  <label>To<select name="to">${options(snapshots[0]!.snapshotId)}</select></label>
  <button type="submit">Compare snapshots</button></form>`;
  const body = html`<h1>Snapshots</h1>${compare}
<table id="snapshots"><thead><tr><th>Snapshot</th><th>Phase</th><th>Entities</th><th>Time</th><th class="num">Entries</th><th class="num">Size</th><th></th></tr></thead><tbody>
${snapshots.map(
  (s) => html`<tr><td><a href="${href('/snapshot', { id: s.snapshotId })}">${name(s.snapshotId)}</a></td><td>${name(s.phase)}</td>
<td>${(s.entities ?? []).map((e) => html`<span class="tag">${name(e)}</span>`)}</td><td class="mono">${s.timestamp}</td>
<td class="num">${s.entryCount}</td><td class="num">${formatBytes(s.totalSize)}</td><td><a href="${href('/snapshot/tar', { id: s.snapshotId })}" download>tar</a></td></tr>`,
)}</tbody></table>
${snapshots.length === 0 ? html`<p class="muted">No snapshots yet (<code>ae-state snapshot -p PHASE</code>).</p>` : ''}`;
  return renderPage({ title: 'Snapshots', section: 'snapshots', body });
}

export async function findSnapshot(manager: EnhancedStateManager, id: string): Promise<SnapshotMetadata> {
  const snapshot = (await manager.listSnapshots()).find((s) => s.snapshotId === id);
  if (snapshot === undefined) throw new NotFoundError(`snapshot ${JSON.stringify(id)}`, { snapshotId: id });
  return snapshot;
}

export async function renderSnapshotPage(manager: EnhancedStateManager, query: Query): Promise<string> {
  const snapshot = await findSnapshot(manager, required(query, 'id'));
  const body = html`<h1>Snapshot ${name(snapshot.snapshotId)}</h1>
<p>phase ${name(snapshot.phase)} · ${snapshot.timestamp} · ${snapshot.entryCount} entries · ${formatBytes(snapshot.totalSize)} ·
  tree <span class="mono">${snapshot.tree.slice(0, 16)}</span></p>
<form method="get" action="/snapshot/tar"><input type="hidden" name="id" value="${snapshot.snapshotId}"><button type="submit" id="download-tar">Download tar</button></form>
<table id="entries"><thead><tr><th>Key</th><th>Full key</th></tr></thead><tbody>
${snapshot.entries.map((fullKey) => renderEntry(fullKey))}</tbody></table>`;
  return renderPage({ title: snapshot.snapshotId, section: 'snapshots', body });
}

function renderEntry(fullKey: string): Html {
  const parsed = parseFullKey(fullKey);
  const logical = parsed?.logicalKey ?? fullKey;
  return html`<tr><td><a href="${href('/key', { key: logical })}">${name(logical)}</a></td><td class="mono">${name(fullKey)}</td></tr>`;
}

export async function renderSnapshotDiffPage(manager: EnhancedStateManager, query: Query): Promise<string> {
  const diff = await manager.diffSnapshots(required(query, 'from'), required(query, 'to'));
  const body = html`<h1>Snapshot diff</h1>
<p><a href="${href('/snapshot', { id: diff.from })}">${name(diff.from)}</a> → <a href="${href('/snapshot', { id: diff.to })}">${name(diff.to)}</a></p>
<p id="snapshot-diff-summary">${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged</p>
<table id="snapshot-diff"><thead><tr><th>Key</th><th>Change</th><th></th></tr></thead><tbody>
${diff.added.map((key) => html`<tr class="kind-added"><td>${keyLink(key)}</td><td>added</td><td></td></tr>`)}
${diff.removed.map((key) => html`<tr class="kind-removed"><td>${keyLink(key)}</td><td>removed</td><td></td></tr>`)}
${diff.changed.map(
  (c) => html`<tr class="kind-changed"><td>${keyLink(c.key)}</td><td>changed: ${c.summary.added.length} added, ${c.summary.removed.length} removed, ${c.summary.changed.length} changed</td>
<td><a href="${href('/diff', { key: c.key, from: c.from, to: c.to })}" class="key-diff">diff</a></td></tr>`,
)}</tbody></table>`;
  return renderPage({ title: 'Snapshot diff', section: 'snapshots', body });
}

function keyLink(key: string): Html {
  return html`<a href="${href('/key', { key })}">${name(key)}</a>`;
}
