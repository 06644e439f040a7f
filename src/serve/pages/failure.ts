/**
 * One failure: its error, context and artifacts, the hook runs it started,
 * and whether the key it names got a new version afterwards. Hook run
 * records carry no failure key, so a run belongs to a failure when it is a
 * `failure` event of one of the hooks that failure triggers (`failure`,
 * `failure-<type>`), started after the failure was stored and before the
 * next failure was.
 */
import type { EnhancedStateManager } from '../../manager/EnhancedStateManager.js';
import type { StoredFailure } from '../../manager/failures.js';
import { notFound } from '../../manager/versions.js';
import { OUTPUT_TAIL_BYTES, type HookRun } from '../../hooks/runner.js';
import type { VersionInfo } from '../../model/types.js';
import { isAeStateError, NotFoundError } from '../../errors.js';
import { href, html, name, visibleText, type Html } from '../html.js';
import { renderJson } from '../json-view.js';
import { renderPage } from '../layout.js';
import { positiveInteger, required, type Query } from '../query.js';
import { specKeyOf } from './failures.js';

export async function renderFailurePage(manager: EnhancedStateManager, query: Query): Promise<string> {
  const key = required(query, 'key');
  const version = positiveInteger(query, 'v');
  const all = await manager.listFailures();
  const index = all.findIndex((f) => f.logicalKey === key && f.version === version);
  if (index === -1) throw notFound(key, version);
  const failure = all[index]!;
  // Newest first: the failure stored after this one is the one before it in the list.
  const nextStoredAt = index > 0 ? all[index - 1]!.storedAt : null;
  const runs = await hookRunsOf(manager, failure, nextStoredAt);
  const specKey = specKeyOf(failure);
  const refinement = specKey === null ? null : await nextVersionAfter(manager, specKey, failure.storedAt);
  const error = failure.document.error;
  const body = html`<h1>Failure ${name(failure.document.id)}</h1>
<p>${name(failure.artifact.phase)} · ${failure.artifact.type} · <span class="sev-${failure.artifact.severity}">${failure.artifact.severity}</span> ·
  ${failure.artifact.retryable ? 'retryable' : 'not retryable'} · stored ${failure.storedAt} as
  <a href="${href('/key', { key: failure.logicalKey, v: failure.version })}">${name(failure.key)}</a></p>
<h2>Error</h2><pre id="failure-error">${visibleText(errorText(error))}</pre>
<h2>Refinement</h2>${renderRefinement(specKey, refinement)}
<h2>Hook runs</h2>${renderRuns(runs)}
<h2>Context</h2>${renderJson(failure.document.context)}
<h2>Artifacts</h2><ul id="artifacts">${failure.document.artifacts.map((a) => html`<li><code>${name(a)}</code></li>`)}</ul>`;
  return renderPage({ title: `failure ${failure.document.id}`, section: 'failures', body });
}

async function hookRunsOf(manager: EnhancedStateManager, failure: StoredFailure, nextStoredAt: string | null): Promise<HookRun[]> {
  const runs: HookRun[] = [];
  for (const hook of ['failure', `failure-${failure.artifact.type}`]) {
    for (const run of await readRuns(manager, hook)) {
      const isAfter = run.startedAt >= failure.storedAt && (nextStoredAt === null || run.startedAt < nextStoredAt);
      if (run.event === 'failure' && isAfter) runs.push(run);
    }
  }
  return runs.sort((a, b) => (a.startedAt < b.startedAt ? -1 : 1));
}

async function readRuns(manager: EnhancedStateManager, hook: string): Promise<HookRun[]> {
  try {
    return await manager.getHookRuns(hook);
  } catch (error) {
    // A phase-derived name no hook file can have: no runs, not a broken page.
    if (isAeStateError(error) && error.code === 'INVALID_ARGUMENT') return [];
    throw error;
  }
}

async function nextVersionAfter(manager: EnhancedStateManager, specKey: string, storedAt: string): Promise<VersionInfo | 'missing' | null> {
  const versions = await manager.getVersions(specKey).catch(() => null);
  if (versions === null || versions.length === 0) return 'missing';
  // Newest first: the oldest version saved after the failure.
  return versions.filter((v) => v.timestamp > storedAt).at(-1) ?? null;
}

function renderRefinement(specKey: string | null, next: VersionInfo | 'missing' | null): Html {
  if (specKey === null) return html`<p class="muted" id="refinement">The failure names no key (<code>context.specKey</code>).</p>`;
  if (next === 'missing') return html`<p class="open" id="refinement">Key ${name(specKey)} has no versions.</p>`;
  if (next === null) return html`<p class="open" id="refinement">Open: no version of ${name(specKey)} was saved after this failure.</p>`;
  const diff = next.version > 1 ? html` · <a href="${href('/diff', { key: specKey, from: next.version - 1, to: next.version })}" id="refinement-diff">what it changed</a>` : '';
  return html`<p class="closed" id="refinement">Closed: <a href="${href('/key', { key: specKey, v: next.version })}">${name(specKey)} v${next.version}</a>
  saved ${next.timestamp} by ${name(next.source)}${diff}</p>`;
}

function renderRuns(runs: readonly HookRun[]): Html {
  if (runs.length === 0) return html`<p class="muted" id="hook-runs">No recorded hook run on this machine.</p>`;
  return html`<table id="hook-runs"><thead><tr><th>Hook</th><th>Started</th><th>Status</th><th class="num">Duration</th><th>Output (end)</th></tr></thead><tbody>
${runs.map(
  (run) => html`<tr><td><a href="${href('/hook-run', { hook: run.hook, started: run.startedAt })}" class="hook-run-link">${name(run.hook)}</a></td>
<td class="mono">${run.startedAt}</td><td class="${run.ok ? 'closed' : 'open'}">${describeStatus(run)}</td><td class="num">${run.durationMs} ms</td>
<td><code>${visibleText(lastLine(run.stdoutTail || run.stderrTail))}</code></td></tr>`,
)}</tbody></table>`;
}

/** The stack when it starts with the message (V8's form), else name and message before it. */
function errorText(error: { name: string; message: string; stack?: string }): string {
  const head = `${error.name}: ${error.message}`;
  if (error.stack === undefined) return head;
  return error.stack.startsWith(head) ? error.stack : `${head}\n${error.stack}`;
}

export function describeStatus(run: HookRun): string {
  if (run.timedOut) return 'timed out';
  if (run.error !== undefined) return `could not start (${run.error})`;
  if (run.signal !== null) return `killed by ${run.signal}`;
  return `exit ${run.exitCode ?? '?'}`;
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

export async function renderHookRunPage(manager: EnhancedStateManager, query: Query): Promise<string> {
  const hook = required(query, 'hook');
  const started = required(query, 'started');
  const run = (await manager.getHookRuns(hook)).find((r) => r.startedAt === started);
  if (run === undefined) throw new NotFoundError(`run of hook ${JSON.stringify(hook)} started at ${started}`, { hook, started });
  const body = html`<h1>Hook run: ${name(run.hook)}</h1>
<table id="hook-run"><tbody>
<tr><th>Event</th><td>${run.event}</td></tr><tr><th>Started</th><td class="mono">${run.startedAt}</td></tr>
<tr><th>Status</th><td class="${run.ok ? 'closed' : 'open'}" id="hook-status">${describeStatus(run)}</td></tr>
<tr><th>Duration</th><td>${run.durationMs} ms</td></tr><tr><th>Process</th><td>${run.pid ?? '-'}</td></tr></tbody></table>
<h2>Standard output (at most the last ${OUTPUT_TAIL_BYTES} bytes)</h2><pre id="hook-stdout">${visibleText(run.stdoutTail)}</pre>
<h2>Standard error (at most the last ${OUTPUT_TAIL_BYTES} bytes)</h2><pre id="hook-stderr">${visibleText(run.stderrTail)}</pre>`;
  return renderPage({ title: `hook ${run.hook}`, section: 'failures', body });
}
