import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { runCommand } from '../context.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the store (.ae/) in the current directory (or --root), as git init does, and install the sample hooks; run again, it reinitializes and says so')
    .option('--json', 'machine-readable output')
    .action((_opts, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const m = manager();
        const existed = existsSync(m.storeDirectory);
        await m.initialize();
        const hooks = await m.installSampleHooks();
        const result = { store: m.storeDirectory, reinitialized: existed, hooks };
        if (out.json) out.data(result);
        else {
          // As git: running init again is safe and says so.
          out.line(`${existed ? 'Reinitialized existing' : 'Initialized'} ae-state store in ${result.store}`);
          if (hooks.installed.length > 0) out.line(`Installed sample hooks (inactive until renamed and made executable): ${hooks.installed.join(', ')}`);
        }
      }),
    );
}
