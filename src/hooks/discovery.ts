/**
 * Finding hook scripts in `.ae/hooks/`, git-style: a hook is an executable
 * file named after the event it handles. Files that are not executable, or
 * end in `.sample`, are installed but inactive; so is a symbolic link (a
 * clone could point one anywhere), which is never followed. Whether an active
 * hook may run at all is decided by trust.ts.
 */
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { readdirIfExists, type StoreFs } from '../store/fs.js';

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
  reason?: 'sample' | 'not executable' | 'not a file' | 'symbolic link';
}

/** Throws unless `name` is a valid hook file name. */
export function assertHookName(name: string): void {
  if (!HOOK_NAME.test(name) || name.includes('..')) {
    throw new InvalidArgumentError(`hook name ${JSON.stringify(name)} must be a plain file name (letters, digits, ".", "_", "-")`, { name });
  }
}

/** Every file in the hooks directory with whether it is active; [] when there is no directory. */
export async function listInstalledHooks(fs: StoreFs, hooksDir: string): Promise<InstalledHook[]> {
  const names = await readdirIfExists(fs, hooksDir);
  const hooks = await Promise.all(names.sort().map((name) => inspectHook(fs, hooksDir, name)));
  return hooks.filter((h): h is InstalledHook => h !== null);
}

/** The active hook called `name`, or null when it is missing, a sample or not executable. */
export async function findActiveHook(fs: StoreFs, hooksDir: string, name: string): Promise<InstalledHook | null> {
  if (!HOOK_NAME.test(name) || name.endsWith(SAMPLE_SUFFIX)) return null;
  const hook = await inspectHook(fs, hooksDir, name);
  return hook?.active ? hook : null;
}

/** Inspects one entry (never following a link); null when it vanished. */
export async function inspectHook(fs: StoreFs, hooksDir: string, name: string): Promise<InstalledHook | null> {
  const path = join(hooksDir, name);
  let stats: Awaited<ReturnType<StoreFs['lstat']>>;
  try {
    stats = await fs.lstat(path);
  } catch {
    return null;
  }
  if (stats.isSymbolicLink()) return { name, path, active: false, reason: 'symbolic link' };
  if (!stats.isFile()) return { name, path, active: false, reason: 'not a file' };
  if (name.endsWith(SAMPLE_SUFFIX)) return { name, path, active: false, reason: 'sample' };
  // Any execute bit, as git decides whether a hook is enabled.
  if ((Number(stats.mode) & 0o111) === 0) return { name, path, active: false, reason: 'not executable' };
  return { name, path, active: true };
}
