import type { Command } from 'commander';
import { runCommand } from '../context.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the store (.ae/) in the project root and install the sample hooks; safe to run again')
    .option('--json', 'machine-readable output')
    .action((_opts, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const m = manager();
        await m.initialize();
        const hooks = await m.installSampleHooks();
        const result = { store: m.storeDirectory, hooks };
        if (out.json) out.data(result);
        else {
          out.line(`Initialized ae-state store in ${result.store}`);
          if (hooks.installed.length > 0) out.line(`Installed sample hooks (inactive until renamed and made executable): ${hooks.installed.join(', ')}`);
        }
      }),
    );
}
