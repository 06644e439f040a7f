/**
 * The diff page: two versions of a key side by side, what changed painted in
 * each, the identity-matched moves shown as moves, and the RFC 6902 patch;
 * computed by `manager.diff`, the code behind `ae-state diff`, with the same
 * defaults (previous → newest) and the same `--at` rules for git revisions.
 */
import type { Change } from '../../diff/diff-documents.js';
import type { DiffSide, VersionDiff } from '../../diff/diff-versions.js';
import type { EnhancedStateManager } from '../../manager/EnhancedStateManager.js';
import { notFound } from '../../manager/versions.js';
import { serialize } from '../../model/codec.js';
import { href, html, name, visibleText, type Html } from '../html.js';
import { renderJson, type PathClass } from '../json-view.js';
import { renderPage } from '../layout.js';
import { required, versionSelector, type Query } from '../query.js';

export async function renderDiffPage(manager: EnhancedStateManager, query: Query): Promise<string> {
  const key = required(query, 'key');
  const fromAt = query.atA || query.at || undefined;
  const toAt = query.atB || query.at || undefined;
  // As the CLI: without a from version, both sides in one place means "the version before `to`" there.
  const from = (query.from ?? '') === '' && fromAt === toAt ? undefined : versionSelector(query.from, fromAt);
  const diff = await manager.diff(key, from, versionSelector(query.to, toAt));
  const [before, after] = await Promise.all([readSide(manager, key, diff.from), readSide(manager, key, diff.to)]);
  const body = html`<h1>Diff of ${name(key)}</h1>
${renderDiffForm(key, query)}
<p id="diff-title"><strong>v${diff.from.version} → v${diff.to.version}</strong> ·
  ${diff.equal ? html`<span id="diff-summary">no differences</span>` : html`<span id="diff-summary">${summaryText(diff)}</span>`}
  · <a href="${href('/key', { key })}">all versions</a></p>
<p class="legend"><span class="added">added</span><span class="removed">removed</span><span class="changed">changed</span><span class="moved">moved</span></p>
<div class="side-by-side">
  <section id="diff-from"><h2>${describeSide(diff.from)}</h2>${renderJson(before, { openDepth: 6, highlight: sideClasses(diff.changes, 'from') })}</section>
  <section id="diff-to"><h2>${describeSide(diff.to)}</h2>${renderJson(after, { openDepth: 6, highlight: sideClasses(diff.changes, 'to') })}</section>
</div>
<h2>Changes</h2>
<ul class="change-list" id="changes">${diff.changes.map(renderChange)}</ul>
<h2>RFC 6902 patch</h2>
<pre id="patch">${visibleText(JSON.stringify(diff.patch, null, 2))}</pre>`;
  return renderPage({ title: `diff ${key}`, section: 'keys', body });
}

async function readSide(manager: EnhancedStateManager, key: string, side: DiffSide): Promise<unknown> {
  const entry = await manager.loadEntry(key, side.at === undefined ? { version: side.version } : { version: side.version, at: side.at });
  if (entry === null) throw notFound(key, side.version);
  // The stored JSON form, which is what the diff compares.
  return JSON.parse(serialize(entry.data).toString('utf8')) as unknown;
}

function renderDiffForm(key: string, query: Query): Html {
  const field = (param: string, label: string, placeholder: string) =>
    html`<label>${label}<input name="${param}" value="${query[param] ?? ''}" placeholder="${placeholder}"></label>`;
  return html`<form class="filters" method="get" action="/diff" id="diff-form">
  <input type="hidden" name="key" value="${key}">
  ${field('from', 'From version', 'previous')}${field('atA', 'from git revision', 'store on disk')}
  ${field('to', 'To version', 'newest')}${field('atB', 'to git revision', 'store on disk')}
  <button type="submit">Compare</button>
</form>`;
}

/** Paints removals, replaced values and move origins on the left; additions, replacements and move targets on the right. */
function sideClasses(changes: readonly Change[], side: 'from' | 'to'): PathClass {
  const moves = changes.filter((c) => c.kind === 'moved' && c.from !== undefined);
  const classes = new Map<string, string>();
  for (const change of changes) {
    if (side === 'to') {
      if (change.kind !== 'removed') classes.set(change.path, change.kind);
    } else if (change.kind === 'moved') {
      classes.set(change.from!, 'moved');
    } else if (change.kind === 'removed' || change.kind === 'changed') {
      classes.set(change.kind === 'changed' ? beforeMoves(change.path, moves) : change.path, change.kind);
    }
  }
  return (pointer) => classes.get(pointer);
}

/** Where a path inside a moved item was before the move (patch paths name the item where it went). */
function beforeMoves(path: string, moves: readonly Change[]): string {
  for (const move of moves) if (path.startsWith(`${move.path}/`)) return `${move.from!}${path.slice(move.path.length)}`;
  return path;
}

function renderChange(change: Change): Html {
  const where = change.path === '' ? '(whole document)' : change.path;
  const what = change.kind === 'moved' ? html`moved from <code>${visibleText(change.from ?? '')}</code>` : change.kind;
  return html`<li class="kind-${change.kind}"><code>${visibleText(where)}</code> ${what}</li>`;
}

function summaryText(diff: VersionDiff): string {
  const moved = diff.changes.filter((c) => c.kind === 'moved').length;
  const changed = diff.summary.changed.length - moved;
  return `${diff.summary.added.length} added, ${diff.summary.removed.length} removed, ${changed} changed, ${moved} moved`;
}

function describeSide(side: DiffSide): Html {
  const where = side.at === undefined ? '' : html` at <code>${side.at}</code>${side.gitCommit ? html` (${side.gitCommit.slice(0, 8)})` : ''}`;
  return html`v${side.version} <span class="mono muted">${side.key}</span>${where}`;
}
