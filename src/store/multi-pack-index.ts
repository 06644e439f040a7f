/**
 * Reading and writing `local/multi-pack-index` (byte layout in
 * src/model/multi-pack-index.ts). The file is a cache: any process may
 * delete it, and any process that lists the packs may write it again, so it
 * is written without the write lock, atomically (temporary file, rename)
 * and without an fsync: a copy torn by a crash fails its digests and is
 * rebuilt, and two processes that write it at once each leave a whole file
 * that was true of the packs they listed.
 *
 * A reader reads the head once and then, by positioned reads, a fan-out
 * slot's table the first time it needs a bucket of that slot, and one bucket
 * at a time: a table or a bucket read from a file replaced since its head
 * was read fails its digest (the head holds every table's, a table its
 * buckets') and is not used.
 */
import {
  bucketByteRange,
  checkBucket,
  checkTable,
  decodeMultiPackIndex,
  decodeMultiPackIndexHead,
  headLengthOf,
  MULTI_INDEX_PREFIX_SIZE,
  sealMultiPackIndex,
  slotOf,
  tableByteRange,
  type MultiPackIndex,
} from '../model/multi-pack-index.js';
import { tempPathFor } from './atomic-write.js';
import { withDescriptor } from './descriptor-pool.js';
import { readFileIfExists, withPositionedReads, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';

/** The checked head of the multi-pack index (no bucket read yet), why it cannot be trusted, or null when there is none. */
export async function readMultiPackIndexHead(fs: StoreFs, layout: StoreLayout): Promise<MultiPackIndex | string | null> {
  try {
    return await withPositionedReads(fs, layout.multiPackIndex, async (read, stats) => {
      const prefix = await read(0, Math.min(stats.size, MULTI_INDEX_PREFIX_SIZE));
      const length = headLengthOf(prefix);
      if (typeof length === 'string') return length;
      if (length > stats.size) return 'is cut short in its head';
      const index = decodeMultiPackIndexHead(await read(0, length), stats.size);
      if (typeof index === 'string') return index;
      // Written as another file: a copy, or one a clone brought (git writes new files); rebuilt rather than trusted.
      if (index.file.dev !== stats.dev || index.file.ino !== stats.ino) return 'was written as another file (a copy, or from a clone)';
      return index;
    });
  } catch (error) {
    // A directory or a link in its place (refused by the guarded file system) is damage, like bad bytes.
    return `cannot be read: ${(error as Error).message}`;
  }
}

/**
 * Reads and checks bucket `n` of `index` (kept in it), and its fan-out
 * slot's table first when it has not been read, on one descriptor; why it
 * cannot be used, as when the file changed since its head was read.
 */
export async function readMultiPackIndexBucket(fs: StoreFs, layout: StoreLayout, index: MultiPackIndex, n: number): Promise<Buffer | string> {
  try {
    const read = await withPositionedReads(fs, layout.multiPackIndex, async (readAt) => {
      const b = slotOf(n);
      if (!index.tables.has(b)) {
        const { position, length } = tableByteRange(index, b);
        const table = checkTable(index, b, await readAt(position, length));
        if (typeof table === 'string') return table;
      }
      const { position, length } = bucketByteRange(index, n);
      return checkBucket(index, n, await readAt(position, length));
    });
    return read === null ? 'is gone' : read;
  } catch (error) {
    return `cannot be read: ${(error as Error).message}`;
  }
}

/** The whole multi-pack index, every bucket checked, for extending it; null when there is none. */
export async function readWholeMultiPackIndex(fs: StoreFs, layout: StoreLayout): Promise<MultiPackIndex | string | null> {
  try {
    const bytes = await readFileIfExists(fs, layout.multiPackIndex);
    return bytes === null ? null : decodeMultiPackIndex(bytes);
  } catch (error) {
    return `cannot be read: ${(error as Error).message}`;
  }
}

/**
 * Replaces the multi-pack index with `bytes`, sealed with the device and
 * inode of the file they are written to (a temporary file, renamed over the
 * old one). Answers the head digest of the file written, or null when it was
 * not. Whatever stops the write (a read-only checkout, a full disk, a
 * directory in its place) is not the caller's error: the lookup it would
 * speed up has already succeeded from the packs' own indexes, and a process
 * without the file reads those one by one, slower and as correct.
 */
export async function writeMultiPackIndex(fs: StoreFs, layout: StoreLayout, bytes: Buffer): Promise<string | null> {
  const temp = tempPathFor(layout.tmp, layout.multiPackIndex);
  try {
    const id = await withDescriptor(async () => {
      const handle = await fs.open(temp, 'wx', 0o644);
      try {
        const sealed = sealMultiPackIndex(bytes, await handle.stat());
        await handle.writeFile(sealed.bytes);
        return sealed.id;
      } finally {
        await handle.close();
      }
    });
    await fs.rename(temp, layout.multiPackIndex);
    return id;
  } catch {
    await fs.unlink(temp).catch(() => undefined);
    return null;
  }
}

/** Removes the multi-pack index, as when no pack is left for it to name; a failure only leaves a file that names packs no longer listed, which a listing reader does not use and a first read only costs a look (see `PackSet.locateToRead`). */
export async function removeMultiPackIndex(fs: StoreFs, layout: StoreLayout): Promise<void> {
  await fs.unlink(layout.multiPackIndex).catch(() => undefined);
}

