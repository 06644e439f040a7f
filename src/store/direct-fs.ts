/**
 * The default `StoreFs`: Node's file system with the promise-shaped surface
 * the store is written against, but making every call except fsync
 * directly on the calling thread.
 *
 * Why: a store operation is a chain of twenty-odd tiny calls (stat, open,
 * write of a few hundred bytes, rename, readdir of a key, ...). Each takes a
 * few microseconds in the kernel, while a round trip through libuv's thread
 * pool costs tens to hundreds of microseconds on a busy or virtualised
 * machine; measured, it made a save three times slower than its I/O. fsync,
 * the one call that waits on the disk, still runs on the thread pool, so the
 * event loop is never held for a flush, and a commit can flush many files in
 * parallel. Tests swap in a faulty `StoreFs` through the same interface.
 */
// Named imports, not `* as fs`: the CLI bundle wraps a namespace import of a
// built-in in an object of a hundred getters at start.
import {
  closeSync,
  fstatSync,
  fsync,
  futimesSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import type { MakeDirectoryOptions, Mode, OpenMode, PathLike, PathOrFileDescriptor, RmOptions, StatSyncOptions, Stats, WriteFileOptions } from 'node:fs';
import { unlink as unlinkOnThreadPool, type FileHandle } from 'node:fs/promises';
import type { StoreFs } from './fs.js';

// Most store files (records, commits, small objects) fit in one read into this
// buffer, which saves the fstat that readFileSync makes to size its buffer.
const scratch = Buffer.allocUnsafe(64 * 1024);

/** The part of `FileHandle` the store uses, over a plain file descriptor. */
class DirectFileHandle {
  constructor(readonly fd: number) {}

  async writeFile(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
  }

  /** Writes all of `data` at `position`, or at the current position when it is null or absent. */
  async write(data: string | Uint8Array, position?: number | null): Promise<{ bytesWritten: number }> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (position === undefined || position === null) {
      await this.writeFile(bytes);
    } else {
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset, position + offset);
    }
    return { bytesWritten: bytes.length };
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    return { bytesRead: readSync(this.fd, buffer, offset, length, position), buffer };
  }

  /** The whole file from its start; most store files fit in one read into the scratch buffer. */
  async readFile(options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<Buffer | string> {
    const encoding = typeof options === 'string' ? options : (options?.encoding ?? null);
    const length = readSync(this.fd, scratch, 0, scratch.length, 0);
    const bytes = length < scratch.length ? Buffer.from(scratch.subarray(0, length)) : readFileSync(this.fd);
    return encoding === null ? bytes : bytes.toString(encoding);
  }

  async stat(): Promise<Stats> {
    return fstatSync(this.fd);
  }

  async utimes(atime: number | Date, mtime: number | Date): Promise<void> {
    futimesSync(this.fd, atime, mtime);
  }

  /** On the thread pool: the one call here that waits for the disk. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => fsync(this.fd, (error) => (error ? reject(error) : resolve())));
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

const direct = {
  readFile: async (path: PathLike, options?: Parameters<typeof readFileSync>[1]) => readFileSync(path, options),
  readdir: async (path: PathLike, options?: { encoding?: BufferEncoding | null; withFileTypes?: false }) => readdirSync(path, options),
  stat: async (path: PathLike, options?: StatSyncOptions) => statSync(path, options),
  lstat: async (path: PathLike, options?: StatSyncOptions) => lstatSync(path, options),
  mkdir: async (path: PathLike, options?: MakeDirectoryOptions) => mkdirSync(path, options),
  open: async (path: PathLike, flags?: OpenMode, mode?: Mode) => new DirectFileHandle(openSync(path, flags ?? 'r', mode)),
  rename: async (from: PathLike, to: PathLike) => renameSync(from, to),
  unlink: async (path: PathLike) => unlinkSync(path),
  rm: async (path: PathLike, options?: RmOptions) => rmSync(path, options),
  link: async (existing: PathLike, created: PathLike) => linkSync(existing, created),
  readFileSync: (path: string) => readFileSync(path),
  readdirSync: (path: string) => readdirSync(path),
  lstatSync: (path: string) => lstatSync(path, { throwIfNoEntry: false }),
  unlinkOnPool: (path: string) => unlinkOnThreadPool(path),
  writeFile: async (path: PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, options?: WriteFileOptions) =>
    writeFileSync(path, data, options),
};

// The handle implements what the store calls on a FileHandle (see above).
export const directFs = direct as unknown as StoreFs & { open(...args: unknown[]): Promise<FileHandle> };
