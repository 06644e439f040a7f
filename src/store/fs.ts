/**
 * The file-system surface the store uses. Every access to the store
 * directory goes through a `StoreFs` (the synchronous reads of
 * `getStatistics` included), so tests can inject ENOSPC, EIO or a "crash"
 * between two steps without mocking the whole `fs` module, and so that
 * `guardStoreFs` (guarded-fs.ts) can refuse every symbolic link a cloned
 * store may contain. The default, `nodeFs`, is Node's file system making its
 * small calls directly and fsync on the thread pool (see direct-fs.ts).
 */
import { constants, type Stats } from 'node:fs';
import type * as fsp from 'node:fs/promises';
import { IntegrityError } from '../errors.js';
import { withDescriptor } from './descriptor-pool.js';
import { directFs } from './direct-fs.js';

/** The synchronous reads, for the one synchronous API (`getStatistics`). */
export interface StoreFsSync {
  readFileSync(path: string): Buffer;
  readdirSync(path: string): string[];
  /** `lstat`; undefined when the path does not exist. */
  lstatSync(path: string): Stats | undefined;
}

export type StoreFs = Pick<
  typeof fsp,
  'readFile' | 'readdir' | 'stat' | 'lstat' | 'mkdir' | 'open' | 'rename' | 'unlink' | 'rm' | 'link' | 'writeFile'
> &
  StoreFsSync & {
    /**
     * `unlink` on the thread pool, for walks that delete many files: unlinks
     * wait on the file system's journal, and several in flight finish about
     * twice as fast as one at a time. Absent: `unlink` is used.
     */
    unlinkOnPool?(path: string): Promise<void>;
  };

export const nodeFs: StoreFs = directFs;

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

/** `readFile` that answers null for a missing file instead of throwing. */
export async function readFileIfExists(fs: StoreFs, path: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

/** `readdir` that answers [] for a missing directory. */
export async function readdirIfExists(fs: StoreFs, path: string): Promise<string[]> {
  try {
    return await fs.readdir(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return [];
    throw error;
  }
}

export async function pathExists(fs: StoreFs, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

/** Reads `length` bytes at `position`, fewer when the file ends first. */
export type PositionedRead = (position: number, length: number) => Promise<Buffer>;

/**
 * Runs `work` with positioned reads of the regular file at `path` and its
 * stat, holding one descriptor permit; null when the file does not exist.
 * For files read a piece at a time (the multi-pack index, commits in parts).
 */
export async function withPositionedReads<T>(
  fs: StoreFs,
  path: string,
  work: (read: PositionedRead, stats: { size: number; dev: number; ino: number }) => Promise<T>,
): Promise<T | null> {
  return withDescriptor(async () => {
    let handle;
    try {
      // Non-blocking, so that a named pipe a clone put in its place is refused below instead of waited on.
      handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new IntegrityError(`${path} is not a regular file`, { path });
      const read: PositionedRead = async (position, length) => {
        // Only the bytes read are handed out, so the buffer needs no zeroing; not from the shared
        // pool, so that a small piece a caller keeps does not keep a pool slab with it.
        const bytes = Buffer.allocUnsafeSlow(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(bytes, done, length - done, position + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return bytes.subarray(0, done);
      };
      return await work(read, stats);
    } finally {
      await handle.close();
    }
  });
}
