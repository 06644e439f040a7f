import type { Command } from 'commander';
import { runCommand } from '../context.js';
import { formatBytes, table } from '../output.js';

export function registerSnapshots(program: Command): void {
  program
    .command('snapshots')
    .description('list snapshots, newest first')
    .option('--json', 'machine-readable output')
    .action((_flags: unknown, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const snapshots = await manager().listSnapshots();
        if (out.json) {
          out.data(snapshots.map(({ entries: _entries, ...summary }) => summary));
          return;
        }
        if (snapshots.length === 0) {
          out.line(out.dim('no snapshots'));
          return;
        }
        table(
          out,
          ['SNAPSHOT', 'PHASE', 'ENTITIES', 'ENTRIES', 'SIZE'],
          snapshots.map((s) => [s.snapshotId, s.phase, s.entities?.join(',') ?? '-', String(s.entryCount), formatBytes(s.totalSize)]),
        );
      }),
    );
}
