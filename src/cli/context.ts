/**
 * What every command gets: the project root, output for people or scripts,
 * and a manager opened on demand and always shut down.
 */
import type { Command } from 'commander';
import type { EnhancedStateManager } from '../manager/EnhancedStateManager.js';
import type { StorageOptions } from '../model/options.js';
import { describeError, exitCodeFor } from './exit-codes.js';
import { createOutput, type Output } from './output.js';

export interface CommandContext {
  root: string;
  out: Output;
  /** The store's manager, created on first call; the CLI waits for hook scripts. */
  manager(options?: StorageOptions): EnhancedStateManager;
}

export type CommandAction = (ctx: CommandContext) => Promise<number | void>;

/** Wraps a command's work: builds its context, maps errors to exit statuses, shuts the manager down. */
export async function runCommand(command: Command, work: CommandAction): Promise<void> {
  const globals = command.optsWithGlobals() as { root?: string; json?: boolean };
  const out = createOutput(globals.json === true);
  let manager: EnhancedStateManager | null = null;
  const root = globals.root ?? process.cwd();
  // Loaded here, not at import: listing commands for `--help` or a usage
  // error must not pay for the store (and node:crypto and zlib with it).
  const { EnhancedStateManager: Manager } = await import('../manager/EnhancedStateManager.js');
  const ctx: CommandContext = {
    root,
    out,
    manager(options = {}) {
      // The timer would be unreferenced anyway; a CLI call never needs it.
      manager ??= new Manager(root, { awaitHooks: true, gcInterval: 0, ...options });
      return manager;
    },
  };
  let exitCode: number;
  try {
    exitCode = (await work(ctx)) ?? 0;
  } catch (error) {
    process.stderr.write(`${command.parent?.name() ?? 'ae-state'}: ${describeError(error)}\n`);
    if (process.env.AE_STATE_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    exitCode = exitCodeFor(error);
  }
  if (manager !== null) await (manager as EnhancedStateManager).shutdown().catch(() => undefined);
  process.exitCode = exitCode;
}
