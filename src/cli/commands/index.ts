/** Every command of the CLI, in the order `--help` lists them. */
import type { Command } from 'commander';
import { registerInit } from './init.js';
import { registerLoad } from './load.js';
import { registerLog } from './log.js';
import { registerSave } from './save.js';
import { registerStats } from './stats.js';
import { registerTestTx } from './test-tx.js';
import { registerVersions } from './versions.js';

export const COMMANDS: Array<(program: Command) => void> = [
  registerInit,
  registerSave,
  registerLoad,
  registerVersions,
  registerLog,
  registerStats,
  registerTestTx,
];
