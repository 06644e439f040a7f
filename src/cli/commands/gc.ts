import { InvalidArgumentError, type Command } from 'commander';
import { runCommand } from '../context.js';
import { printHookRuns, recordHookRuns } from '../hook-runs.js';
import { formatBytes } from '../output.js';
import { createActivity } from '../progress.js';

/** `--prune=now` or `--prune <seconds>`: the grace period for unreferenced objects. */
export function parsePrune(value: string): 'now' | number {
  if (value === 'now') return 'now';
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(seconds)) throw new InvalidArgumentError('must be "now" or a number of seconds >= 0');
  return seconds;
}

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description('remove expired versions, unreferenced objects and debris of killed writers; lists the post-gc hooks it ran and leaves its summary in .ae/local/last-gc.json')
    .option('--prune <when>', '"now" to skip the grace period (only when no other process is writing), or the grace period in seconds (default 300)', parsePrune)
    .option('--json', 'machine-readable output')
    .action((flags: { prune?: 'now' | number }, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const m = manager();
        const hooks = recordHookRuns(m);
        const progress = createActivity('collecting garbage');
        let result;
        try {
          result = await m.runGarbageCollection(flags.prune === undefined ? {} : { prune: flags.prune });
        } finally {
          progress.finish();
        }
        const runs = await hooks.settle();
        if (out.json) {
          out.data({ ...result, hooks: runs });
          return;
        }
        out.line(`${out.green('gc done')} in ${(result.durationMs / 1000).toFixed(2)} s`);
        out.line(`  expired versions removed  ${result.expiredCount}`);
        out.line(`  objects removed           ${result.removedObjects} (${formatBytes(result.freedBytes)} freed)`);
        if (result.keptAsNewest + result.keptBySnapshot > 0) {
          out.line(out.dim(`  kept past their TTL: ${result.keptAsNewest} as their key's newest version, ${result.keptBySnapshot} named by a snapshot`));
        }
        const debris = result.removedUnpublishedRefs + result.removedStagingFiles + result.removedTempFiles;
        if (debris > 0) out.line(`  debris removed            ${debris} file(s) of interrupted writes`);
        printHookRuns(out, runs);
      }),
    );
}
