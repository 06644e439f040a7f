/**
 * Settling version numbers (see version-index.ts): rewriting the refs whose
 * stored number differs from the number readers derive, so that later
 * removals of older refs cannot move them. Only happens after `git merge`
 * brought in concurrent versions of a key; in a store written by one line of
 * history every stored number is already the derived one and this writes
 * nothing. Runs under the write lock.
 */
import { lastTakenVersion, type VersionRecord } from '../model/records.js';
import type { RefStore } from './refs.js';
import { FILE_CONCURRENCY, mapLimit } from './write-pool.js';
import { nextVersionNumber } from './version-index.js';

export interface NumberedRef {
  path: string;
  record: VersionRecord;
}

/**
 * Rewrites, in place, each of a key's visible refs (oldest first) whose
 * stored number is not its derived number. Returns the directories to fsync
 * (before any ref of the key is removed) and the refs as rewritten.
 */
export async function settleVersionNumbers(refs: RefStore, visible: readonly NumberedRef[]): Promise<{ dirs: string[]; settled: NumberedRef[] }> {
  let lastTaken = 0;
  const unsettled: NumberedRef[] = [];
  for (const ref of visible) {
    const version = nextVersionNumber(lastTaken, ref.record.version);
    if (version !== ref.record.version) unsettled.push({ path: ref.path, record: { ...ref.record, version } });
    lastTaken = lastTakenVersion({ version, record: ref.record });
  }
  if (unsettled.length === 0) return { dirs: [], settled: [] };
  const dirs = await mapLimit(unsettled, FILE_CONCURRENCY, (ref) => refs.write(ref.record, ref.path));
  // Other processes of this machine cached the old records; this tells them to drop them.
  await refs.markSettled();
  return { dirs: [...new Set(dirs.flat())], settled: unsettled };
}
