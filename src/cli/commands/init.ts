import type { Command } from 'commander';
import { runCommand } from '../context.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the store (.ae/) in the project root; safe to run again')
    .option('--json', 'machine-readable output')
    .action((_opts, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const m = manager();
        await m.initialize();
        const result = { store: m.storeDirectory };
        if (out.json) out.data(result);
        else out.line(`Initialized ae-state store in ${result.store}`);
      }),
    );
}
