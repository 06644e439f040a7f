/**
 * Bounded concurrency for walks over thousands of small files: enough I/O in
 * flight to keep the disk and libuv's thread pool busy, never so much that
 * memory grows with the size of the store.
 */

/** The concurrency store-wide walks (GC, fsck) use for small-file I/O. */
export const WALK_CONCURRENCY = 64;

/** Calls `work` for every item with at most `limit` calls in flight; rejects with the first error. */
export async function forEachLimit<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failed: unknown = null;
  let hasFailed = false;
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); !next.done && !hasFailed; next = iterator.next()) {
      try {
        await work(next.value);
      } catch (error) {
        if (!hasFailed) failed = error;
        hasFailed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (hasFailed) throw failed;
}
