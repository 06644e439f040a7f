/**
 * A key's page: its versions as a timeline (paged, newest first) and one
 * version's data, pretty-printed and collapsible, with a raw download. Costs
 * one listing of this key, one stat per version shown and one object read.
 */
import type { EnhancedStateManager } from '../../manager/EnhancedStateManager.js';
import { notFound } from '../../manager/versions.js';
import type { VersionDetails, VersionPage } from '../../manager/version-details.js';
import { serialize } from '../../model/codec.js';
import { formatBytes, href, html, name, shortId, type Html } from '../html.js';
import { renderJson } from '../json-view.js';
import { renderPage } from '../layout.js';
import { pageNumber, positiveInteger, required, type Query } from '../query.js';
import { renderPager } from './pager.js';

export const VERSIONS_PER_PAGE = 100;

export async function renderKeyPage(manager: EnhancedStateManager, query: Query): Promise<string> {
  const key = required(query, 'key');
  const { page, total, versions } = await readTimeline(manager, key, pageNumber(query));
  if (total === 0) throw notFound(key);
  const selected = positiveInteger(query, 'v');
  const entry = await manager.loadEntry(key, selected);
  if (entry === null) throw notFound(key, selected);
  const pages = Math.max(1, Math.ceil(total / VERSIONS_PER_PAGE));
  const stored = JSON.parse(serialize(entry.data).toString('utf8')) as unknown;
  const body = html`<h1>${name(key)}</h1>
<p class="muted">${total.toLocaleString('en')} version${total === 1 ? '' : 's'}${
    total > 1 ? html` · <a href="${href('/diff', { key })}" id="diff-latest">diff previous → newest</a>` : ''
  }</p>
<h2>Timeline</h2>
<table id="versions"><thead><tr><th class="num">Version</th><th>Time</th><th>Phase</th><th>Source</th><th>Tags</th><th>Git</th><th>Commit</th><th class="num">Stored</th><th></th></tr></thead><tbody>
${versions.map((v) => renderVersionRow(key, v, entry.version))}
</tbody></table>
${renderPager('/key', { key, v: query.v }, page, pages, total, 'versions')}
<h2 id="version-heading">Version ${entry.version} <span class="muted mono">${entry.id}</span></h2>
<p><a href="${href('/key/raw', { key, v: entry.version })}" download id="raw-download">download raw JSON</a>
  · checksum <span class="mono">${entry.checksum}</span> · ${formatBytes(entry.metadata.size)}</p>
<section id="version-data">${renderJson(stored)}</section>`;
  return renderPage({ title: key, section: 'keys', body });
}

/** One page of the timeline; a page past the end is the last one, as on the other paged lists. */
async function readTimeline(manager: EnhancedStateManager, key: string, page: number): Promise<VersionPage & { page: number }> {
  const read = (n: number) => manager.getVersionPage(key, (n - 1) * VERSIONS_PER_PAGE, VERSIONS_PER_PAGE);
  const first = await read(page);
  const pages = Math.max(1, Math.ceil(first.total / VERSIONS_PER_PAGE));
  return page <= pages ? { ...first, page } : { ...(await read(pages)), page: pages };
}

function renderVersionRow(key: string, v: VersionDetails, selected: number): Html {
  const tags = Object.entries(v.tags).map(([tag, value]) => html`<span class="tag">${name(tag)}=${name(value)}</span>`);
  const diff = v.version > 1 ? html` · <a href="${href('/diff', { key, from: v.version - 1, to: v.version })}">diff</a>` : '';
  const git = v.git === undefined ? '-' : html`${shortId(v.git.commit)}${v.git.branch ? html` (${name(v.git.branch)})` : ''}`;
  const stored = v.storedBytes === null ? 'missing' : `${formatBytes(v.storedBytes)}${v.compressed ? ' gz' : ''}`;
  return html`<tr ${v.version === selected ? html`aria-current="true"` : ''}><td class="num">${v.version}</td><td class="mono">${v.timestamp}</td>
<td>${name(v.phase ?? '-')}</td><td>${name(v.source)}</td><td>${tags}</td><td class="mono">${git}</td><td class="mono" title="${v.commit}">${shortId(v.commit, 24)}</td>
<td class="num">${stored}</td><td><a href="${href('/key', { key, v: v.version })}" class="show-version">show</a>${diff}</td></tr>`;
}

/** The stored JSON of one version, as a download. */
export async function readRawVersion(manager: EnhancedStateManager, query: Query): Promise<{ body: Buffer; fileName: string }> {
  const key = required(query, 'key');
  const version = positiveInteger(query, 'v');
  const entry = await manager.loadEntry(key, version);
  if (entry === null) throw notFound(key, version);
  return { body: serialize(entry.data), fileName: `${entry.id}.json` };
}
