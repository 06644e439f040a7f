import type { Command } from 'commander';
import { notFound } from '../../manager/versions.js';
import { runCommand } from '../context.js';
import { formatBytes, table } from '../output.js';

export function registerVersions(program: Command): void {
  program
    .command('versions')
    .description('list the versions of a logical key, newest first')
    .requiredOption('-k, --key <key>', 'logical key')
    .option('--at <rev>', 'list the versions as committed at this git revision of the project')
    .option('--json', 'machine-readable output')
    .action((flags: { key: string; at?: string }, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const versions = await manager().getVersions(flags.key, { at: flags.at });
        if (versions.length === 0) throw notFound(flags.key);
        if (out.json) {
          out.data(versions);
          return;
        }
        table(
          out,
          ['VERSION', 'TIMESTAMP', 'PHASE', 'SIZE', 'CHECKSUM', 'GIT'],
          versions.map((v) => [
            String(v.version),
            v.timestamp,
            v.phase ?? '-',
            formatBytes(v.size),
            v.checksum.slice(0, 12),
            v.git ? `${v.git.commit.slice(0, 8)}${v.git.branch ? ` (${v.git.branch})` : ''}` : '-',
          ]),
        );
      }),
    );
}
