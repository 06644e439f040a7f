/**
 * Health: the store's statistics and size on disk, and fsck. The button runs
 * a read-only fsck (never `repair`); its report is kept in memory as the
 * last result this server saw. The store itself keeps no record of past
 * fsck or gc runs, so none is invented here.
 */
import { relative } from 'node:path';
import type { EnhancedStateManager } from '../../manager/EnhancedStateManager.js';
import type { FsckResult } from '../../manager/fsck-report.js';
import { formatBytes, html, type Html } from '../html.js';
import { renderPage } from '../layout.js';

export interface FsckRecord {
  at: string;
  result: FsckResult;
}

/** The last fsck this server ran, and the one running now. */
export class FsckRunner {
  last: FsckRecord | null = null;
  private running: Promise<FsckRecord> | null = null;

  constructor(private readonly manager: EnhancedStateManager) {}

  /** Runs a read-only fsck; a click while one runs waits for that one. */
  run(): Promise<FsckRecord> {
    this.running ??= this.manager
      .fsck({ repair: false })
      .then((result) => (this.last = { at: new Date().toISOString(), result }))
      .finally(() => (this.running = null));
    return this.running;
  }
}

export function renderHealthPage(manager: EnhancedStateManager, fsck: FsckRunner, justRan = false): string {
  const stats = manager.getStatistics();
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
${fsck.last === null ? html`<p class="muted" id="fsck-report">No fsck run from this server yet.</p>` : renderFsck(manager, fsck.last, justRan)}
<h2>Garbage collection</h2>
<p class="muted">The store keeps no record of past gc runs; <code>ae-state gc</code> prints what it removed.</p>`;
  return renderPage({ title: 'Health', section: 'health', body, live: !justRan });
}

function renderFsck(manager: EnhancedStateManager, record: FsckRecord, justRan: boolean): Html {
  const { result } = record;
  const checked = `${result.checked.objects} objects, ${result.checked.refs} version records, ${result.checked.commits} commits, ${result.checked.tags} tags`;
  return html`<div id="fsck-report">
<p class="${result.ok ? 'ok' : 'error'}" id="fsck-status">${result.ok ? 'OK' : 'Problems found'}: ${result.errors} error(s), ${result.warnings} warning(s);
  checked ${checked} in ${result.durationMs} ms ${justRan ? '(just now)' : html`at <span class="mono">${record.at}</span>`}.</p>
${result.problems.length === 0 ? '' : html`<table id="fsck-problems"><thead><tr><th>Severity</th><th>Code</th><th>File</th><th>Problem</th></tr></thead><tbody>${result.problems.map(
  (p) => html`<tr><td>${p.severity}</td><td><code>${p.code}</code></td><td class="mono">${relative(manager.storeDirectory, p.path)}</td><td>${p.message}</td></tr>`,
)}</tbody></table>`}</div>`;
}
