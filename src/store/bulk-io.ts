/**
 * File calls for store-wide walks (fsck, GC) that touch every one of
 * hundreds of thousands of small files. They go through the store's
 * `StoreFs` like every other access (so links are refused and faults reach
 * walks too); Node's own file system makes these calls directly on the
 * calling thread (direct-fs.ts), which is several times faster than a thread
 * pool round trip per small file. Every `SLICE` calls the walk yields to the
 * event loop, so timers and other I/O of the process still run.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isErrno, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';

const SLICE = 256;
let callsInSlice = 0;

async function pace(): Promise<void> {
  if (++callsInSlice >= SLICE) {
    callsInSlice = 0;
    await yieldToEventLoop();
  }
}

/** `readFile`, null for a missing file. */
export async function readFileFast(fs: StoreFs, path: string): Promise<Buffer | null> {
  await pace();
  return readFileIfExists(fs, path);
}

/** `readdir`, [] for a missing directory. */
export async function readdirFast(fs: StoreFs, path: string): Promise<string[]> {
  await pace();
  return readdirIfExists(fs, path);
}

/** `stat`, null for a missing file. */
export async function statFast(fs: StoreFs, path: string): Promise<{ size: number; mtimeMs: number } | null> {
  await pace();
  try {
    return await fs.stat(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

/** `unlink` (on the thread pool where the file system offers it); answers false when the file was already gone. */
export async function unlinkIfExists(fs: StoreFs, path: string): Promise<boolean> {
  try {
    await (fs.unlinkOnPool ?? fs.unlink)(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}
