/**
 * Every command of the CLI, in the order `--help` lists them. Each is loaded
 * only when it runs: hook scripts start the CLI many times, so a `load` must
 * not pay for parsing the code of twenty other commands.
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: Record<string, () => Promise<RegisterCommand>> = {
  'init': async () => (await import('./init.js')).registerInit,
  'save': async () => (await import('./save.js')).registerSave,
  'add': async () => (await import('./add.js')).registerAdd,
  'load': async () => (await import('./load.js')).registerLoad,
  'versions': async () => (await import('./versions.js')).registerVersions,
  'log': async () => (await import('./log.js')).registerLog,
  'diff': async () => (await import('./diff.js')).registerDiff,
  'status': async () => (await import('./status.js')).registerStatus,
  'stats': async () => (await import('./stats.js')).registerStats,
  'snapshot': async () => (await import('./snapshot.js')).registerSnapshot,
  'load-snapshot': async () => (await import('./load-snapshot.js')).registerLoadSnapshot,
  'snapshots': async () => (await import('./snapshots.js')).registerSnapshots,
  'export': async () => (await import('./export.js')).registerExport,
  'import': async () => (await import('./import.js')).registerImport,
  'migrate': async () => (await import('./migrate.js')).registerMigrate,
  'gc': async () => (await import('./gc.js')).registerGc,
  'fsck': async () => (await import('./fsck.js')).registerFsck,
  'test-tx': async () => (await import('./test-tx.js')).registerTestTx,
  'simulate-failure': async () => (await import('./simulate-failure.js')).registerSimulateFailure,
  'failures': async () => (await import('./failures.js')).registerFailures,
  'hooks': async () => (await import('./hooks.js')).registerHooks,
  'config': async () => (await import('./config.js')).registerConfig,
  'version': async () => (await import('./version.js')).registerVersion,
  'serve': async () => (await import('./serve.js')).registerServe,
};
