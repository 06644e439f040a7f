import type { Command } from 'commander';
import { runCommand } from '../context.js';
import { formatBytes } from '../output.js';

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('show statistics of the store')
    .option('--json', 'machine-readable output')
    .action((_flags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const m = manager();
        await m.initialize();
        const s = m.getStatistics();
        if (out.json) {
          out.data(s);
          return;
        }
        const rows: Array<[string, string]> = [
          ['Versions', String(s.totalEntries)],
          ['Logical keys', String(s.logicalKeys)],
          ['Average versions per key', s.averageVersions.toFixed(2)],
          ['Data size (uncompressed)', formatBytes(s.totalSize)],
          ['Compressed versions', String(s.compressedEntries)],
          ['Objects on disk', `${s.objectCount} (${formatBytes(s.objectBytes)})`],
          ['Saved by deduplication', formatBytes(s.dedupSavedBytes)],
          ['Saved by compression', formatBytes(s.compressionSavedBytes)],
          ['Saved by dedup + compression', `${(s.spaceSaving * 100).toFixed(1)}%`],
          ['Store size on disk', formatBytes(s.diskBytes)],
          ['Oldest version', s.oldestEntry ?? '-'],
          ['Newest version', s.newestEntry ?? '-'],
          ['Active transactions', String(s.activeTransactions)],
        ];
        out.line(out.bold('Enhanced State Manager Statistics'));
        const width = Math.max(...rows.map(([label]) => label.length));
        for (const [label, value] of rows) out.line(`  ${label.padEnd(width)}  ${value}`);
      }),
    );
}
