/**
 * Which project root a command works on, found the way git finds `.git`:
 * `--root`, then `AE_STATE_ROOT`, then the nearest directory, from the
 * current one upwards, that holds a store. The walk stops at the top of the
 * enclosing git work tree (the first directory with a `.git` entry), or at
 * the file-system root outside git, so a project never picks up a store of
 * the repository or home directory around it. A write that finds no store
 * creates one at the top of that work tree, where the next search from
 * anywhere in it finds it, or outside git in the current directory.
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
  source: 'option' | 'environment' | 'discovered' | 'work-tree' | 'cwd';
  /** Where a search that found no store started, for the message that says so. */
  searchedFrom?: string;
}

/** `discover: false` (for `init`, as `git init`) uses the current directory instead of searching upwards. */
export function chooseRoot(rootOption: string | undefined, env: NodeJS.ProcessEnv, cwd: string, discover = true): RootChoice {
  const explicit = rootOption ?? (env.AE_STATE_ROOT === '' ? undefined : env.AE_STATE_ROOT);
  if (explicit !== undefined) {
    const root = resolve(cwd, explicit);
    return { root, hasStore: hasStoreAt(root), source: rootOption === undefined ? 'environment' : 'option' };
  }
  if (!discover) return { root: resolve(cwd), hasStore: hasStoreAt(resolve(cwd)), source: 'cwd' };
  const searchedFrom = resolve(cwd);
  const found = searchUpwards(searchedFrom);
  if (found.store !== null) return { root: found.store, hasStore: true, source: 'discovered' };
  if (found.workTree !== null) return { root: found.workTree, hasStore: false, source: 'work-tree', searchedFrom };
  return { root: searchedFrom, hasStore: false, source: 'cwd', searchedFrom };
}

/** The nearest directory from `start` upwards holding `.ae/`, within the git work tree; null when none. */
export function findStoreRoot(start: string): string | null {
  return searchUpwards(resolve(start)).store;
}

/** The store found, or else the top of the git work tree where the search stopped (null outside git). */
function searchUpwards(start: string): { store: string | null; workTree: string | null } {
  let dir = start;
  for (;;) {
    if (hasStoreAt(dir)) return { store: dir, workTree: null };
    if (exists(join(dir, '.git'))) return { store: null, workTree: dir };
    const parent = dirname(dir);
    if (parent === dir) return { store: null, workTree: null };
    dir = parent;
  }
}

/** The error a read-only command reports when `choice` has no store. */
export function noStoreError(choice: RootChoice): NoStoreError {
  return new NoStoreError(choice.searchedFrom ?? choice.root, choice.searchedFrom !== undefined);
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
