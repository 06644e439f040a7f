/**
 * Reading and writing `local/multi-pack-index` (byte layout in
 * src/model/multi-pack-index.ts). The file is a cache: any process may
 * delete it, and any process that lists the packs may write it again, so it
 * is written without the write lock, atomically (temporary file, rename)
 * and without an fsync: a copy torn by a crash fails its checksum and is
 * rebuilt, and two processes that write it at once each leave a whole file
 * that was true of the packs they listed.
 */
import { decodeMultiPackIndex, type MultiPackIndex } from '../model/multi-pack-index.js';
import { writeFileAtomic } from './atomic-write.js';
import { readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';

/** The checked multi-pack index, why it cannot be trusted, or null when there is none. */
export async function readMultiPackIndex(fs: StoreFs, layout: StoreLayout): Promise<MultiPackIndex | string | null> {
  let bytes: Buffer | null;
  try {
    bytes = await readFileIfExists(fs, layout.multiPackIndex);
  } catch (error) {
    // A directory or a link in its place (refused by the guarded file system) is damage, like bad bytes.
    return `cannot be read: ${(error as Error).message}`;
  }
  return bytes === null ? null : decodeMultiPackIndex(bytes);
}

/**
 * Replaces the multi-pack index with `bytes`. Answers whether it was
 * written. Whatever stops the write (a read-only checkout, a full disk, a
 * directory in its place) is not the caller's error: the lookup it would
 * speed up has already succeeded from the packs' own indexes, and a process
 * without the file reads those one by one, slower and as correct.
 */
export async function writeMultiPackIndex(fs: StoreFs, layout: StoreLayout, bytes: Buffer): Promise<boolean> {
  return writeFileAtomic(fs, layout.tmp, layout.multiPackIndex, bytes, { sync: false }).then(
    () => true,
    () => false,
  );
}

/** Removes the multi-pack index, as when no pack is left for it to name; a failure only leaves a file that names packs no longer listed, which no reader uses. */
export async function removeMultiPackIndex(fs: StoreFs, layout: StoreLayout): Promise<void> {
  await fs.unlink(layout.multiPackIndex).catch(() => undefined);
}
