import type { Command } from 'commander';
import type { MigrationResult } from '../../manager/backup.js';
import { runCommand } from '../context.js';
import { createActivity } from '../progress.js';
import { describeCounts } from './import.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('import the original single-file database (databasePath, default .ae/enhanced-state.db) and keep it renamed')
    .option('--json', 'machine-readable output')
    .action((_flags: unknown, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const m = manager();
        // Opening an empty store migrates by itself; report that migration too.
        let result: MigrationResult | null = null;
        m.on('stateMigrated', (event: MigrationResult) => (result = event));
        const activity = createActivity('migrating');
        try {
          await m.migrate();
        } finally {
          activity.finish();
        }
        const migrated = result as MigrationResult | null;
        if (out.json) out.data(migrated ?? { migrated: false });
        else if (migrated === null) out.line(out.dim(`nothing to migrate (no file at ${m.options.databasePath})`));
        else out.line(`${out.green('migrated')} ${migrated.path} (${describeCounts(migrated)}); the file was kept as ${migrated.backupPath}`);
      }),
    );
}
