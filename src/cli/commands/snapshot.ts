import type { Command } from 'commander';
import { runCommand } from '../context.js';
import { printHookRuns, recordHookRuns } from '../hook-runs.js';
import { parsePhase } from './options.js';

interface SnapshotFlags {
  phase: string;
  entities?: string;
}

export function registerSnapshot(program: Command): void {
  program
    .command('snapshot')
    .description('snapshot the latest versions of a phase (and of keys naming the given entities); lists the post-snapshot hooks it ran')
    .requiredOption('-p, --phase <phase>', 'phase whose latest versions to include, e.g. phase-5', parsePhase)
    .option('-e, --entities <names>', 'comma-separated entities whose keys to include too, e.g. "User,Product"')
    .option('--json', 'machine-readable output')
    .action((flags: SnapshotFlags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const entities = flags.entities
          ?.split(',')
          .map((e) => e.trim())
          .filter((e) => e !== '');
        const m = manager();
        const hooks = recordHookRuns(m);
        const id = await m.createSnapshot(flags.phase, entities);
        const snapshot = (await m.listSnapshots()).find((s) => s.snapshotId === id)!;
        const runs = await hooks.settle();
        if (out.json) out.data({ ...snapshot, hooks: runs });
        else {
          out.line(`${out.green('created')} ${id} ${out.dim(`(${snapshot.entryCount} entries)`)}`);
          printHookRuns(out, runs);
        }
      }),
    );
}
