import type { Command } from 'commander';
import { runCommand } from '../context.js';
import { packageVersion } from '../version.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version of ae-state (as --version does)')
    .option('--json', 'machine-readable output')
    .action((_flags, command: Command) =>
      runCommand(command, async ({ out }) => {
        const version = packageVersion();
        if (out.json) out.data({ version });
        else out.line(version);
      }),
    );
}
