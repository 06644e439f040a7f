import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { runCommand } from '../context.js';
import { writeOutput } from '../io.js';
import { formatBytes, table } from '../output.js';
import { stderr } from '../stdio.js';

interface LoadSnapshotFlags {
  snapshot: string;
  output?: string;
}

export function registerLoadSnapshot(program: Command): void {
  program
    .command('load-snapshot')
    .description("show a snapshot's versions, or write them (data and metadata) as JSON; exit 3 when it does not exist")
    .requiredOption('-s, --snapshot <id>', 'snapshot id, e.g. snapshot_phase-5_2025-01-20T10:00:00.000Z')
    .option('-o, --output <file>', 'write the entries as a JSON object keyed by full key')
    .option('--json', 'print the entries as JSON')
    .action((flags: LoadSnapshotFlags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const entries = await manager().loadSnapshot(flags.snapshot);
        if (entries === null) throw new NotFoundError(`snapshot ${JSON.stringify(flags.snapshot)}`, { snapshotId: flags.snapshot });
        if (flags.output) {
          await writeOutput(flags.output, Buffer.from(`${JSON.stringify(entries, null, 2)}\n`));
          if (!out.json) stderr.write(`wrote ${Object.keys(entries).length} entries of ${flags.snapshot} to ${flags.output}\n`);
          return;
        }
        if (out.json) {
          out.data(entries);
          return;
        }
        out.line(`${flags.snapshot}: ${Object.keys(entries).length} entries`);
        table(
          out,
          ['KEY', 'VERSION', 'PHASE', 'SIZE', 'CHECKSUM'],
          Object.values(entries).map((e) => [e.id, String(e.version), e.metadata.phase ?? '-', formatBytes(e.metadata.size), e.checksum.slice(0, 12)]),
        );
      }),
    );
}
