/** Every command of the CLI, in the order `--help` lists them. */
import type { Command } from 'commander';
import { registerFailures } from './failures.js';
import { registerHooks } from './hooks.js';
import { registerInit } from './init.js';
import { registerLoad } from './load.js';
import { registerLog } from './log.js';
import { registerSave } from './save.js';
import { registerSimulateFailure } from './simulate-failure.js';
import { registerStats } from './stats.js';
import { registerGc } from './gc.js';
import { registerFsck } from './fsck.js';
import { registerTestTx } from './test-tx.js';
import { registerVersions } from './versions.js';
import { registerDiff } from './diff.js';
import { registerStatus } from './status.js';
import { registerSnapshot } from './snapshot.js';
import { registerLoadSnapshot } from './load-snapshot.js';
import { registerSnapshots } from './snapshots.js';
import { registerExport } from './export.js';
import { registerImport } from './import.js';
import { registerMigrate } from './migrate.js';

export const COMMANDS: Array<(program: Command) => void> = [
  registerInit,
  registerSave,
  registerLoad,
  registerVersions,
  registerLog,
  registerDiff,
  registerStatus,
  registerStats,
  registerSnapshot,
  registerLoadSnapshot,
  registerSnapshots,
  registerExport,
  registerImport,
  registerMigrate,
  registerGc,
  registerFsck,
  registerTestTx,
  registerSimulateFailure,
  registerFailures,
  registerHooks,
];
