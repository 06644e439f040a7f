/** The keys page: every logical key with its newest version; filter, sort, page. */
import type { KeySummary } from '../../manager/key-summaries.js';
import type { KeyListCache } from '../key-list-cache.js';
import { formatBytes, href, html, name, shortId } from '../html.js';
import { renderPage } from '../layout.js';
import { pageNumber, paginate, type Query } from '../query.js';
import { renderPager } from './pager.js';

export const KEYS_PER_PAGE = 50;

export async function renderKeysPage(keys: KeyListCache, query: Query): Promise<string> {
  const all = await keys.list();
  const text = (query.q ?? '').trim();
  const phase = query.phase ?? '';
  const sort = query.sort === 'recent' ? 'recent' : 'name';
  const phases = [...new Set(all.map((k) => k.latest.phase).filter((p): p is string => p !== undefined))].sort();
  const shown = sortKeys(filterKeys(all, text, phase), sort);
  const paged = paginate(shown, pageNumber(query), KEYS_PER_PAGE);
  const params = { q: text, phase, sort };
  const body = html`<h1>Keys</h1>
<form class="filters" method="get" action="/">
  <label>Text<input type="search" name="q" value="${text}" placeholder="part of a key"></label>
  <label>Phase<select name="phase"><option value="">any phase</option>${phases.map(
    (p) => html`<option value="${p}" ${p === phase ? html`selected` : ''}>${p}</option>`,
  )}</select></label>
  <label>Sort<select name="sort"><option value="name" ${sort === 'name' ? html`selected` : ''}>name</option><option value="recent" ${sort === 'recent' ? html`selected` : ''}>most recent</option></select></label>
  <button type="submit">Show</button>
</form>
<table id="keys"><thead><tr><th>Key</th><th class="num">Newest</th><th class="num">Versions</th><th>Phase</th><th>Source</th><th class="num">Size</th><th>Saved</th><th>Git</th></tr></thead><tbody>
${paged.items.map(
  (k) => html`<tr><td><a href="${href('/key', { key: k.logicalKey })}">${name(k.logicalKey)}</a></td><td class="num">v${k.latest.version}</td><td class="num">${k.versionCount}</td><td>${name(k.latest.phase ?? '-')}</td><td>${name(k.latest.source)}</td><td class="num">${formatBytes(k.latest.size)}</td><td class="mono">${k.latest.timestamp}</td><td class="mono">${shortId(k.latest.git?.commit)}</td></tr>`,
)}
</tbody></table>
${paged.total === 0 ? html`<p class="muted">No key matches.</p>` : ''}
${renderPager('/', params, paged.page, paged.pages, paged.total, 'keys')}`;
  return renderPage({ title: 'Keys', section: 'keys', body });
}

function filterKeys(keys: KeySummary[], text: string, phase: string): KeySummary[] {
  const needle = text.toLowerCase();
  return keys.filter((k) => (needle === '' || k.logicalKey.toLowerCase().includes(needle)) && (phase === '' || k.latest.phase === phase));
}

function sortKeys(keys: KeySummary[], sort: 'name' | 'recent'): KeySummary[] {
  // listKeys is already in name order.
  if (sort === 'name') return keys;
  return keys.slice().sort((a, b) => (a.latest.timestamp < b.latest.timestamp ? 1 : a.latest.timestamp > b.latest.timestamp ? -1 : 0));
}
