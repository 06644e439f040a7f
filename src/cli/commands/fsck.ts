import type { Command } from 'commander';
import { EXIT_ERROR } from '../exit-codes.js';
import { runCommand } from '../context.js';
import { createActivity } from '../progress.js';

export function registerFsck(program: Command): void {
  program
    .command('fsck')
    .description(
      'verify every object, version record, commit and tag, each record against the commit that lists it, and that nothing under .ae/ is a link or special file; exit 1 when something is damaged. Writes nothing but its summary to .ae/local/last-fsck.json unless --repair',
    )
    .option(
      '--repair',
      'move damaged files to .ae/local/corrupt/, rebuild damaged version records from their commits, remove links (never their targets) and debris of dead writers (never deletes intact data)',
    )
    .option('--json', 'machine-readable output')
    .action((flags: { repair?: boolean }, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const activity = createActivity(flags.repair ? 'checking and repairing the store' : 'checking the store');
        let result;
        try {
          result = await manager().fsck({ repair: flags.repair === true });
        } finally {
          activity.finish();
        }
        if (out.json) {
          out.data(result);
          return result.ok ? 0 : EXIT_ERROR;
        }
        for (const p of result.problems) {
          const label = p.severity === 'error' ? out.red(p.code) : out.yellow(p.code);
          const fix = p.repaired === undefined ? '' : out.green(` [${p.repaired}]`);
          out.line(`${label} ${p.path}: ${p.message}${fix}`);
        }
        const { objects, refs, commits, tags } = result.checked;
        out.line(`checked ${objects} objects, ${refs} version records, ${commits} commits, ${tags} tags`);
        const summary = `${result.errors} error(s), ${result.warnings} warning(s)${result.repaired > 0 ? `, ${result.repaired} repaired` : ''}`;
        out.line(result.ok ? out.green(`ok: ${summary}`) : out.red(`damaged: ${summary}`));
        return result.ok ? 0 : EXIT_ERROR;
      }),
    );
}
