/**
 * Finding hook scripts in `.ae/hooks/`, git-style: a hook is an executable
 * file named after the event it handles. Files that are not executable, or
 * end in `.sample`, are installed but inactive.
 */
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

/** The hook names the store runs, in the order they are documented. */
export const HOOK_NAMES = ['failure', 'failure-<type>', 'post-commit', 'post-snapshot', 'post-gc'] as const;

const SAMPLE_SUFFIX = '.sample';
// A hook name is a plain file name inside `.ae/hooks/`: no separators, no
// leading dot, so no name can reach outside that directory.
const HOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface InstalledHook {
  name: string;
  path: string;
  /** Whether the store would run it: executable, and not a `.sample`. */
  active: boolean;
  /** Why an installed file is inactive. */
  reason?: 'sample' | 'not executable' | 'not a file';
}

/** Throws unless `name` is a valid hook file name. */
export function assertHookName(name: string): void {
  if (!HOOK_NAME.test(name) || name.includes('..')) {
    throw new InvalidArgumentError(`hook name ${JSON.stringify(name)} must be a plain file name (letters, digits, ".", "_", "-")`, { name });
  }
}

/** Every file in the hooks directory with whether it is active; [] when there is no directory. */
export async function listInstalledHooks(hooksDir: string): Promise<InstalledHook[]> {
  let names: string[];
  try {
    names = await readdir(hooksDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
  const hooks = await Promise.all(names.sort().map((name) => inspectHook(hooksDir, name)));
  return hooks.filter((h): h is InstalledHook => h !== null);
}

/** The active hook called `name`, or null when it is missing, a sample or not executable. */
export async function findActiveHook(hooksDir: string, name: string): Promise<InstalledHook | null> {
  if (!HOOK_NAME.test(name) || name.endsWith(SAMPLE_SUFFIX)) return null;
  const hook = await inspectHook(hooksDir, name);
  return hook?.active ? hook : null;
}

/** Inspects one entry; null when it vanished. */
export async function inspectHook(hooksDir: string, name: string): Promise<InstalledHook | null> {
  const path = join(hooksDir, name);
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch {
    return null;
  }
  if (!isFile) return { name, path, active: false, reason: 'not a file' };
  if (name.endsWith(SAMPLE_SUFFIX)) return { name, path, active: false, reason: 'sample' };
  if (!(await isExecutable(path))) return { name, path, active: false, reason: 'not executable' };
  return { name, path, active: true };
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
