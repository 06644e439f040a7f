/**
 * Recognising what a dead process of this machine left behind under
 * `local/`: temporary files of interrupted writes (`local/tmp/`) and the
 * side files of interrupted lock attempts (`local/lock.<pid>.<nonce>`).
 * A file is debris only when its whole name matches the pattern the store
 * writes, nonce included, and its pid no longer runs: a name that merely
 * starts with digits (or anything a clone put there) is never deleted.
 */
import { join } from 'node:path';
import { unlinkIfExists } from './bulk-io.js';
import { readdirIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import { isProcessAlive } from './process.js';

/** `<pid>.<nonce>.<n>.<target name, at most 60 characters>.tmp`, as `tempPathFor` writes them. */
const TEMP_NAME = /^([1-9]\d{0,9})\.[0-9a-f]{16}\.\d{1,10}\.[^/]{1,60}\.tmp$/;
/** `lock.<pid>.<nonce>`, as `StoreLock` writes them beside `local/lock`. */
const LOCK_SIDE_NAME = /^lock\.([1-9]\d{0,9})\.[0-9a-f]{16}$/;

/** The writer's pid when `name` is a temporary file name the store writes, else null. */
export function tempFileOwner(name: string): number | null {
  const match = TEMP_NAME.exec(name);
  return match === null ? null : Number(match[1]);
}

/** The writer's pid when `name` is a lock side file name the store writes, else null. */
export function lockSideFileOwner(name: string): number | null {
  const match = LOCK_SIDE_NAME.exec(name);
  return match === null ? null : Number(match[1]);
}

/** Paths of the debris of processes that no longer run. */
export async function listDeadWriterDebris(fs: StoreFs, layout: StoreLayout): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdirIfExists(fs, layout.tmp)) {
    const pid = tempFileOwner(name);
    if (pid !== null && !isProcessAlive(pid)) found.push(join(layout.tmp, name));
  }
  for (const name of await readdirIfExists(fs, layout.local)) {
    const pid = lockSideFileOwner(name);
    if (pid !== null && !isProcessAlive(pid)) found.push(join(layout.local, name));
  }
  const regular = await Promise.all(found.map(async (path) => ((await fs.lstat(path).catch(() => null))?.isFile() ? path : null)));
  return regular.filter((path): path is string => path !== null);
}

/** Removes the debris of dead processes; answers how many files went. */
export async function removeDeadWriterDebris(fs: StoreFs, layout: StoreLayout): Promise<number> {
  let removed = 0;
  for (const path of await listDeadWriterDebris(fs, layout)) if (await unlinkIfExists(fs, path)) removed++;
  return removed;
}
