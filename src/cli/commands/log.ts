import type { Command } from 'commander';
import { runCommand } from '../context.js';
import { parsePositiveInteger } from './options.js';

export function registerLog(program: Command): void {
  program
    .command('log')
    .description("list the store's commits, newest first")
    .option('-n, --max-count <n>', 'show at most n commits', parsePositiveInteger)
    .option('--json', 'machine-readable output')
    .action((flags: { maxCount?: number }, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const commits = await manager().getLog(flags.maxCount);
        if (out.json) {
          out.data(commits);
          return;
        }
        for (const c of commits) {
          out.line(`${out.yellow(`commit ${c.id}`)}`);
          if (c.parent) out.line(out.dim(`parent ${c.parent}`));
          out.line(`Date:   ${c.time}`);
          if (c.git) out.line(`Git:    ${c.git.commit.slice(0, 12)}${c.git.branch ? ` (${c.git.branch})` : ' (detached)'}`);
          out.line(`\n    ${c.message}\n`);
          for (const op of c.operations) out.line(`    ${out.green('+')} ${op.fullKey} ${out.dim(`v${op.version} ${op.checksum.slice(0, 12)}`)}`);
          out.line();
        }
      }),
    );
}
