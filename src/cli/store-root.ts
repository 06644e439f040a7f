/**
 * Which project root a command works on, found the way git finds `.git`:
 * `--root`, then `AE_STATE_ROOT`, then the nearest directory, from the
 * current one upwards, that holds a store. The walk stops at the top of the
 * enclosing git work tree (the first directory with a `.git` entry), or at
 * the file-system root outside git, so a project never picks up a store of
 * the repository or home directory around it.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { NoStoreError } from '../errors.js';

export const STORE_DIRECTORY = '.ae';

export interface RootChoice {
  /** The project root whose `.ae/` the command uses. */
  root: string;
  /** Whether a store exists there. */
  hasStore: boolean;
  /** How the root was chosen, for messages. */
  source: 'option' | 'environment' | 'discovered' | 'cwd';
}

/** `discover: false` (for `init`, as `git init`) uses the current directory instead of searching upwards. */
export function chooseRoot(rootOption: string | undefined, env: NodeJS.ProcessEnv, cwd: string, discover = true): RootChoice {
  const explicit = rootOption ?? (env.AE_STATE_ROOT === '' ? undefined : env.AE_STATE_ROOT);
  if (explicit !== undefined) {
    const root = resolve(cwd, explicit);
    return { root, hasStore: hasStoreAt(root), source: rootOption === undefined ? 'environment' : 'option' };
  }
  if (!discover) return { root: resolve(cwd), hasStore: hasStoreAt(resolve(cwd)), source: 'cwd' };
  const found = findStoreRoot(cwd);
  return found === null ? { root: resolve(cwd), hasStore: false, source: 'cwd' } : { root: found, hasStore: true, source: 'discovered' };
}

/** The nearest directory from `start` upwards holding `.ae/`, within the git work tree; null when none. */
export function findStoreRoot(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    if (hasStoreAt(dir)) return dir;
    if (exists(join(dir, '.git'))) return null;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** The error a read-only command reports when `choice` has no store. */
export function noStoreError(choice: RootChoice): NoStoreError {
  return new NoStoreError(choice.root, choice.source === 'cwd');
}

function hasStoreAt(dir: string): boolean {
  try {
    return statSync(join(dir, STORE_DIRECTORY)).isDirectory();
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
