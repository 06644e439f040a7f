import type { Command } from 'commander';
import { runCommand } from '../context.js';
import { table } from '../output.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show the store's files not yet committed to the project's git repository")
    .option('--json', 'machine-readable output')
    .action((_flags: unknown, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const status = await manager().getGitStatus();
        if (out.json) {
          out.data(status);
          return;
        }
        const head = status.gitCommit === null ? 'no commits yet' : `${status.gitCommit.slice(0, 8)}${status.branch ? ` (${status.branch})` : ' (detached)'}`;
        out.line(`git HEAD ${head}; store ${status.store}/`);
        if (status.clean) {
          out.line(out.green('nothing to commit: every file of the store is committed'));
          return;
        }
        out.line('not committed to git:');
        table(
          out,
          ['GROUP', 'NEW', 'MODIFIED', 'DELETED'],
          Object.entries(status.groups).map(([group, n]) => [group, String(n.new), String(n.modified), String(n.deleted)]),
        );
        out.line();
        for (const file of status.files) {
          const paint = file.state === 'new' ? out.green : file.state === 'deleted' ? out.red : out.yellow;
          out.line(`  ${paint(`${file.state.padEnd(8)} ${file.path}`)}${file.staged ? out.dim(' (staged)') : ''}`);
        }
      }),
    );
}
