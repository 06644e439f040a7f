/** Previous / next links of a paged list, keeping the page's other parameters. */
import { href, html, type Html } from '../html.js';

export function renderPager(path: string, params: Record<string, string | undefined>, page: number, pages: number, total: number, noun: string): Html {
  const link = (n: number, label: string, rel: string) => html`<a href="${href(path, { ...params, page: n })}" rel="${rel}">${label}</a>`;
  return html`<p class="pager">${page > 1 ? link(page - 1, '← previous', 'prev') : ''}
    <span>page ${page} of ${pages} · ${total.toLocaleString('en')} ${noun}</span>
    ${page < pages ? link(page + 1, 'next →', 'next') : ''}</p>`;
}
