/**
 * What every command gets: the project root, output for people or scripts,
 * and a manager opened on demand and always shut down.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { EnhancedStateManager } from '../manager/EnhancedStateManager.js';
import type { StorageOptions } from '../model/options.js';
import { exitCodeFor, UsageError } from './exit-codes.js';
import { createOutput, type Output } from './output.js';
import { describeFailure, writeError } from './report-error.js';
import { chooseRoot, noStoreError, type RootChoice } from './store-root.js';
import { stderr } from './stdio.js';

export interface CommandContext {
  root: string;
  out: Output;
  /** The store's manager, created on first call; the CLI waits for hook scripts. */
  manager(options?: StorageOptions): EnhancedStateManager;
}

export type CommandAction = (ctx: CommandContext) => Promise<number | void>;

/**
 * Commands that only read, or only act on what a store already holds (`gc`,
 * `hooks run`): where there is no store they say so and create none. Every
 * other command creates the store it writes to.
 */
export const COMMANDS_NEEDING_A_STORE: ReadonlySet<string> = new Set([
  'load', 'versions', 'log', 'diff', 'status', 'stats', 'load-snapshot', 'snapshots',
  'export', 'fsck', 'failures', 'hooks', 'config get', 'config list', 'gc', 'hooks run', 'serve',
]);

export interface CommandMode {
  /** A command's own mapping of errors to exit statuses (diff's 1 means "different"). */
  exitCodeFor?: (error: unknown) => number;
}

/** Wraps a command's work: finds the store, maps errors to exit statuses, shuts the manager down. */
export async function runCommand(command: Command, work: CommandAction, mode: CommandMode = {}): Promise<void> {
  const globals = command.optsWithGlobals() as { root?: string; json?: boolean };
  const out = createOutput(globals.json === true);
  let manager: EnhancedStateManager | null = null;
  let exitCode: number;
  try {
    const path = commandPath(command);
    // As `git init`, init makes its store where it is run, not in a project above.
    const choice = chooseRoot(globals.root, process.env, process.cwd(), path !== 'init');
    if (COMMANDS_NEEDING_A_STORE.has(path) && !choice.hasStore) throw noStoreError(choice);
    // A mistyped --root must not become a new directory holding a new store; only init creates one, as git init does.
    if (path !== 'init' && !choice.hasStore && (choice.source === 'option' || choice.source === 'environment') && !isDirectory(choice.root)) {
      throw new UsageError(`${choice.source === 'option' ? '--root' : 'AE_STATE_ROOT'} ${choice.root} is not a directory`);
    }
    // Loaded here, not at import: listing commands for `--help` or a usage
    // error must not pay for the store (and node:crypto and zlib with it).
    const { EnhancedStateManager: Manager } = await import('../manager/EnhancedStateManager.js');
    exitCode = (await work(contextFor(Manager, choice, out, (m) => (manager = m), () => manager))) ?? 0;
  } catch (error) {
    writeError(programName(command), describeFailure(error), out.json);
    if (process.env.AE_STATE_DEBUG) stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    exitCode = (mode.exitCodeFor ?? exitCodeFor)(error);
  }
  if (manager !== null) await (manager as EnhancedStateManager).shutdown().catch(() => undefined);
  process.exitCode = exitCode;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function contextFor(
  Manager: typeof EnhancedStateManager,
  choice: RootChoice,
  out: Output,
  keep: (manager: EnhancedStateManager) => void,
  current: () => EnhancedStateManager | null,
): CommandContext {
  return {
    root: choice.root,
    out,
    manager(options = {}) {
      // The timer would be unreferenced anyway; a CLI call never needs it.
      const existing = current();
      if (existing !== null) return existing;
      const created = new Manager(choice.root, { awaitHooks: true, gcInterval: 0, ...options });
      // An untrusted hook never runs; say so once per hook, with the command that trusts it.
      const warned = new Set<string>();
      created.on('hookSkipped', (e: { hook?: string; reason?: string; message?: string }) => {
        if (e.reason !== 'untrusted' || !e.message || warned.has(String(e.hook))) return;
        warned.add(String(e.hook));
        stderr.write(`ae-state: warning: ${e.message}\n`);
      });
      keep(created);
      return created;
    },
  };
}

/** `load`, `hooks run`, `config get`: the command's names below the program. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `ae-state`, or `ae-framework` for the reference's spelling. */
export function programName(command: Command): string {
  let top = command;
  while (top.parent) top = top.parent;
  return top.name().split(' ')[0] ?? 'ae-state';
}
