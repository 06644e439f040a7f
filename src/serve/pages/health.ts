/**
 * Health: the store's statistics and size on disk, the last garbage
 * collection and fsck recorded on this machine (by any process, from
 * `local/`), and fsck. The button runs a read-only fsck (never `repair`)
 * and shows its whole report; a later visit shows the recorded summary.
 */
import { relative } from 'node:path';
import type { EnhancedStateManager } from '../../manager/EnhancedStateManager.js';
import type { FsckResult } from '../../manager/fsck-report.js';
import type { FsckRecord, GcRecord } from '../../model/maintenance-records.js';
import { formatBytes, html, type Html } from '../html.js';
import { renderPage } from '../layout.js';

/** Runs the button's fsck; a click while one runs waits for that one. */
export class FsckRunner {
  private running: Promise<FsckResult> | null = null;

  constructor(private readonly manager: EnhancedStateManager) {}

  run(): Promise<FsckResult> {
    this.running ??= this.manager.fsck({ repair: false }).finally(() => (this.running = null));
    return this.running;
  }
}

/** The page; `justRan` is the report of the fsck this request ran, shown whole. */
export async function renderHealthPage(manager: EnhancedStateManager, justRan: FsckResult | null = null): Promise<string> {
  const stats = manager.getStatistics();
  const { lastGc, lastFsck } = await manager.getMaintenanceRecords();
  const row = (label: string, value: string | number) => html`<tr><th>${label}</th><td class="num">${value}</td></tr>`;
  const body = html`<h1>Health</h1>
<table id="statistics"><tbody>
${row('Logical keys', stats.logicalKeys)}${row('Versions', stats.totalEntries.toLocaleString('en'))}
${row('Average versions per key', stats.averageVersions.toFixed(1))}${row('Data (serialised)', formatBytes(stats.totalSize))}
${row('Objects', stats.objectCount.toLocaleString('en'))}${row('Object bytes on disk', formatBytes(stats.objectBytes))}
${row('Store size on disk', formatBytes(stats.diskBytes))}${row('Saved by deduplication', formatBytes(stats.dedupSavedBytes))}
${row('Saved by compression', formatBytes(stats.compressionSavedBytes))}${row('Oldest version', stats.oldestEntry ?? '-')}
${row('Newest version', stats.newestEntry ?? '-')}
</tbody></table>
<h2>fsck</h2>
<form method="post" action="/health/fsck"><button type="submit" id="run-fsck">Run fsck (read-only)</button></form>
${justRan !== null ? renderFsckReport(manager, justRan) : renderFsckRecord(lastFsck)}
<h2>Garbage collection</h2>
${renderGcRecord(lastGc)}`;
  return renderPage({ title: 'Health', section: 'health', body, live: justRan === null });
}

function checkedText(checked: FsckResult['checked']): string {
  return `${checked.objects} objects, ${checked.refs} version records, ${checked.commits} commits, ${checked.tags} tags`;
}

function statusLine(result: Pick<FsckResult, 'ok' | 'errors' | 'warnings'>): Html {
  return html`<span class="${result.ok ? 'ok' : 'error'}" id="fsck-status">${result.ok ? 'OK' : 'Problems found'}: ${result.errors} error(s), ${result.warnings} warning(s)</span>`;
}

function problemTable(problems: ReadonlyArray<{ severity: string; code: string; path: string; message: string }>): Html | string {
  if (problems.length === 0) return '';
  return html`<table id="fsck-problems"><thead><tr><th>Severity</th><th>Code</th><th>File</th><th>Problem</th></tr></thead><tbody>${problems.map(
    (p) => html`<tr><td>${p.severity}</td><td><code>${p.code}</code></td><td class="mono">${p.path}</td><td>${p.message}</td></tr>`,
  )}</tbody></table>`;
}

function renderFsckReport(manager: EnhancedStateManager, result: FsckResult): Html {
  const problems = result.problems.map((p) => ({ ...p, path: relative(manager.storeDirectory, p.path) }));
  return html`<div id="fsck-report">
<p>${statusLine(result)}; checked ${checkedText(result.checked)} in ${result.durationMs} ms (just now).</p>
${problemTable(problems)}</div>`;
}

function renderFsckRecord(record: FsckRecord | null): Html {
  if (record === null) return html`<p class="muted" id="fsck-report">No fsck run recorded on this machine yet.</p>`;
  const more = record.problemCount - record.problems.length;
  return html`<div id="fsck-report">
<p>Last fsck${record.repair ? ' (with repair)' : ''}: ${statusLine(record)}${record.repaired > 0 ? `, ${record.repaired} repaired` : ''};
  checked ${checkedText(record.checked)} in ${record.durationMs} ms, finished at <span class="mono" id="fsck-time">${record.finishedAt}</span>.</p>
${problemTable(record.problems)}${more > 0 ? html`<p class="muted">and ${more} more; <code>ae-state fsck</code> lists them all.</p>` : ''}</div>`;
}

function renderGcRecord(record: GcRecord | null): Html {
  if (record === null) return html`<p class="muted" id="gc-report">No garbage collection recorded on this machine yet.</p>`;
  return html`<p id="gc-report">Last gc: removed ${record.expiredCount} expired version(s) and ${record.removedObjects} object(s)
  (${formatBytes(record.freedBytes)}), ${record.removedDebris} debris file(s); kept ${record.keptBySnapshot} for snapshots and ${record.keptAsNewest} as newest;
  grace ${record.graceSeconds} s, ${record.durationMs} ms, finished at <span class="mono" id="gc-time">${record.finishedAt}</span>.</p>`;
}
