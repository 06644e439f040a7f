/**
 * Failures and the CEGIS loop: failures over time by phase, type and
 * severity; one failure with its context, artifacts, the hook runs it
 * started (from the run records) and the next version of the key it names
 * (`context.specKey`, the convention of the sample refinement hook), so a
 * reader sees whether each refinement loop closed.
 */
import type { EnhancedStateManager } from '../../manager/EnhancedStateManager.js';
import type { FailureFilter, StoredFailure } from '../../manager/failures.js';
import { FAILURE_SEVERITIES, FAILURE_TYPES } from '../../model/failures.js';
import type { FailureSeverity, FailureType } from '../../model/types.js';
import { href, html, name, visibleText, type Html } from '../html.js';
import { renderPage } from '../layout.js';
import { pageNumber, paginate, type Query } from '../query.js';
import { renderPager } from './pager.js';

export const FAILURES_PER_PAGE = 50;

export async function renderFailuresPage(manager: EnhancedStateManager, query: Query): Promise<string> {
  const filter = failureFilter(query);
  const failures = await manager.listFailures(filter);
  const paged = paginate(failures, pageNumber(query), FAILURES_PER_PAGE);
  const select = (param: string, values: readonly string[], label: string) =>
    html`<label>${label}<select name="${param}"><option value="">any</option>${values.map(
      (v) => html`<option value="${v}" ${query[param] === v ? html`selected` : ''}>${v}</option>`,
    )}</select></label>`;
  const body = html`<h1>Failures &amp; CEGIS</h1>
<form class="filters" method="get" action="/failures">
  <label>Phase<input name="phase" value="${query.phase ?? ''}" placeholder="any phase"></label>
  ${select('type', FAILURE_TYPES, 'Type')}${select('severity', FAILURE_SEVERITIES, 'Severity')}<button type="submit">Show</button>
</form>
<div class="bars">${renderCounts('By day', failures, (f) => f.storedAt.slice(0, 10))}${renderCounts('By phase', failures, (f) => f.artifact.phase)}
${renderCounts('By type', failures, (f) => f.artifact.type)}${renderCounts('By severity', failures, (f) => f.artifact.severity)}</div>
<table id="failures"><thead><tr><th>Stored</th><th>Phase</th><th>Type</th><th>Severity</th><th>Error</th><th>Key</th></tr></thead><tbody>
${paged.items.map(
  (f) => html`<tr><td class="mono"><a href="${href('/failure', { key: f.logicalKey, v: f.version })}" class="failure-link">${f.storedAt}</a></td>
<td>${name(f.artifact.phase)}</td><td>${f.artifact.type}</td><td class="sev-${f.artifact.severity}">${f.artifact.severity}</td>
<td>${visibleText(f.document.error.message)}</td><td>${name(specKeyOf(f) ?? '-')}</td></tr>`,
)}</tbody></table>
${failures.length === 0 ? html`<p class="muted">No failures stored.</p>` : ''}
${renderPager('/failures', { phase: query.phase, type: query.type, severity: query.severity }, paged.page, paged.pages, paged.total, 'failures')}`;
  return renderPage({ title: 'Failures', section: 'failures', body });
}

function failureFilter(query: Query): FailureFilter {
  const filter: FailureFilter = {};
  if (query.phase) filter.phase = query.phase;
  if (query.type) filter.type = query.type as FailureType;
  if (query.severity) filter.severity = query.severity as FailureSeverity;
  return filter;
}

function renderCounts(title: string, failures: readonly StoredFailure[], group: (f: StoredFailure) => string): Html {
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(group(f), (counts.get(group(f)) ?? 0) + 1);
  const most = Math.max(1, ...counts.values());
  const rows = [...counts].sort(([a], [b]) => (a < b ? -1 : 1));
  return html`<table class="counts"><thead><tr><th>${title}</th><th class="num">Failures</th></tr></thead><tbody>${rows.map(
    ([label, count]) => html`<tr><td>${name(label)}</td><td class="num"><meter min="0" max="${most}" value="${count}"></meter> ${count}</td></tr>`,
  )}</tbody></table>`;
}

/** The specification key a failure names, by the sample refinement hook's convention. */
export function specKeyOf(failure: StoredFailure): string | null {
  const specKey = failure.document.context.specKey;
  return typeof specKey === 'string' && specKey !== '' ? specKey : null;
}
