/**
 * Atomic, durable file writes: write a temporary file in the store's local
 * temp directory, fsync it, rename it over the target. A reader sees the old
 * file or the whole new one, never a part. The rename is made durable by
 * fsyncing the target's directory, which callers batch with `syncDirs` so that
 * one commit pays for each directory once.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { withDescriptor } from './descriptor-pool.js';
import { isErrno, type StoreFs } from './fs.js';
import { FILE_CONCURRENCY, mapLimit } from './write-pool.js';

let tempCounter = 0;
// Random per process, so a temp name proves it was written by the store (see
// debris.ts); drawn at the first write, so commands that write nothing never load node:crypto.
let tempNonce: string | null = null;

/**
 * Temp names are `<pid>.<nonce>.<n>.<target name>.tmp`: the pid lets recovery
 * tell a dead writer's leftovers from a live one's, and the whole-name
 * pattern (nonce included) that they were written by the store at all.
 */
export function tempPathFor(tmpDir: string, target: string): string {
  tempCounter = (tempCounter + 1) % 1_000_000_000;
  tempNonce ??= randomBytes(8).toString('hex');
  return join(tmpDir, `${process.pid}.${tempNonce}.${tempCounter}.${basename(target).slice(0, 60) || 'file'}.tmp`);
}

/** Writes `data` to a new file and (unless `sync` is false) fsyncs it; the file must not exist. */
export async function writeDurableFile(fs: StoreFs, path: string, data: Uint8Array, sync = true): Promise<void> {
  await withDescriptor(async () => {
    const handle = await fs.open(path, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      if (sync) await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/** A file just written whose fsync runs in the background on the descriptor that wrote it. */
export interface FlushingFile<T> {
  /** What `place` answered (see `writeNewFileFlushing`). */
  placed: T;
  /** Settles with the file's fsync; rejects with its error. */
  flushed: Promise<void>;
}

/**
 * Creates `path` (which must not exist) holding `data`, runs `place` (a
 * rename into place, say) with the file still open, then starts the file's
 * fsync on the descriptor that wrote it: a file flushed this way is not
 * opened a second time to be flushed, which saves an open and a close per
 * file of a commit. Resolves once `place` has run; a failure up to there
 * rejects it (and `flushed`), and the caller removes what it created. The
 * descriptor holds a permit of the descriptor pool until its fsync settles.
 */
export function writeNewFileFlushing<T>(fs: StoreFs, path: string, data: Uint8Array, place: () => Promise<T>): Promise<FlushingFile<T>> {
  return new Promise((resolve, reject) => {
    const flushed = withDescriptor(async () => {
      let handle: Awaited<ReturnType<StoreFs['open']>>;
      try {
        handle = await fs.open(path, 'wx', 0o644);
      } catch (error) {
        reject(error);
        throw error;
      }
      try {
        let placed: T;
        try {
          await handle.writeFile(data);
          placed = await place();
        } catch (error) {
          reject(error);
          throw error;
        }
        resolve({ placed, flushed });
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    // A failure before `place` is reported by the returned promise; one after, to whoever awaits `flushed`.
    flushed.catch(() => undefined);
  });
}

/**
 * `writeFileAtomic` without waiting for the fsync: the file is renamed into
 * place whole, and its fsync starts at once on the descriptor that wrote it
 * (`writeNewFileFlushing`). The caller awaits `flushed` and fsyncs
 * `dirname(target)` before relying on the file surviving a machine crash.
 */
export async function writeFileAtomicFlushing(
  fs: StoreFs,
  tmpDir: string,
  target: string,
  data: Uint8Array,
  options: { createDir?: boolean } = {},
): Promise<FlushingFile<{ createdDir: boolean }>> {
  const temp = tempPathFor(tmpDir, target);
  try {
    return await writeNewFileFlushing(fs, temp, data, () => renameIntoPlace(fs, temp, target, options.createDir ?? false));
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * fsyncs existing files or directories, in parallel but bounded: a commit of
 * thousands of versions must not open thousands of files at once. For files
 * (objects whose fsync was deferred to the commit) it flushes their data; for
 * directories, the renames into them.
 */
export async function syncPaths(fs: StoreFs, paths: Iterable<string>): Promise<void> {
  await mapLimit([...new Set(paths)], FILE_CONCURRENCY, (path) =>
    withDescriptor(async () => {
      const handle = await fs.open(path, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }),
  );
}

/** Files and directories are fsynced alike; the two names say which the caller means. */
export const syncFiles = syncPaths;
export const syncDirs = syncPaths;

/**
 * Replaces (or creates) `target` with `data` atomically. The caller must fsync
 * `dirname(target)` (see `syncDirs`) before relying on the rename surviving a
 * machine crash. With `sync: false` the file's own fsync is left to the
 * caller too (`syncFiles`), so that a commit can make many files durable in
 * parallel; the rename is still atomic for readers.
 */
export async function writeFileAtomic(
  fs: StoreFs,
  tmpDir: string,
  target: string,
  data: Uint8Array,
  options: { sync?: boolean; createDir?: boolean } = {},
): Promise<{ createdDir: boolean }> {
  const temp = tempPathFor(tmpDir, target);
  try {
    await writeDurableFile(fs, temp, data, options.sync ?? true);
    return await renameIntoPlace(fs, temp, target, options.createDir ?? false);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function renameIntoPlace(fs: StoreFs, temp: string, target: string, createDir: boolean): Promise<{ createdDir: boolean }> {
  try {
    await fs.rename(temp, target);
    return { createdDir: false };
  } catch (error) {
    // The directory is created only when the rename finds it missing, so
    // the common case costs no mkdir at all.
    if (!createDir || !isErrno(error, 'ENOENT')) throw error;
    await fs.mkdir(dirname(target), { recursive: true });
    await fs.rename(temp, target);
    return { createdDir: true };
  }
}

