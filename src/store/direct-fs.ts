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
import * as fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { StoreFs } from './fs.js';

/** The part of `FileHandle` the store uses, over a plain file descriptor. */
class DirectFileHandle {
  constructor(readonly fd: number) {}

  async writeFile(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < bytes.length) offset += fs.writeSync(this.fd, bytes, offset, bytes.length - offset);
  }

  /** Writes all of `data` at `position`, or at the current position when it is null or absent. */
  async write(data: string | Uint8Array, position?: number | null): Promise<{ bytesWritten: number }> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (position === undefined || position === null) {
      await this.writeFile(bytes);
    } else {
      let offset = 0;
      while (offset < bytes.length) offset += fs.writeSync(this.fd, bytes, offset, bytes.length - offset, position + offset);
    }
    return { bytesWritten: bytes.length };
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    return { bytesRead: fs.readSync(this.fd, buffer, offset, length, position), buffer };
  }

  async utimes(atime: number | Date, mtime: number | Date): Promise<void> {
    fs.futimesSync(this.fd, atime, mtime);
  }

  /** On the thread pool: the one call here that waits for the disk. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fsync(this.fd, (error) => (error ? reject(error) : resolve())));
  }

  async close(): Promise<void> {
    fs.closeSync(this.fd);
  }
}

const direct = {
  readFile: async (path: fs.PathLike, options?: Parameters<typeof fs.readFileSync>[1]) => fs.readFileSync(path, options),
  readdir: async (path: fs.PathLike, options?: { encoding?: BufferEncoding | null; withFileTypes?: false }) => fs.readdirSync(path, options),
  stat: async (path: fs.PathLike, options?: fs.StatSyncOptions) => fs.statSync(path, options),
  lstat: async (path: fs.PathLike, options?: fs.StatSyncOptions) => fs.lstatSync(path, options),
  mkdir: async (path: fs.PathLike, options?: fs.MakeDirectoryOptions) => fs.mkdirSync(path, options),
  open: async (path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => new DirectFileHandle(fs.openSync(path, flags ?? 'r', mode)),
  rename: async (from: fs.PathLike, to: fs.PathLike) => fs.renameSync(from, to),
  unlink: async (path: fs.PathLike) => fs.unlinkSync(path),
  rm: async (path: fs.PathLike, options?: fs.RmOptions) => fs.rmSync(path, options),
  link: async (existing: fs.PathLike, created: fs.PathLike) => fs.linkSync(existing, created),
  readFileSync: (path: string) => fs.readFileSync(path),
  readdirSync: (path: string) => fs.readdirSync(path),
  lstatSync: (path: string) => fs.lstatSync(path, { throwIfNoEntry: false }),
  writeFile: async (path: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, options?: fs.WriteFileOptions) =>
    fs.writeFileSync(path, data, options),
};

// The handle implements what the store calls on a FileHandle (see above).
export const directFs = direct as unknown as StoreFs & { open(...args: unknown[]): Promise<FileHandle> };
