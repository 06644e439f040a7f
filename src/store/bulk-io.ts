/**
 * File calls for store-wide walks (fsck, GC) that touch every one of
 * hundreds of thousands of small files. On Node's own file system reads use
 * the synchronous calls in short slices: each asynchronous call on a small
 * file costs several thread-pool round trips, which made a walk 3–9x slower
 * than a plain synchronous loop. Every `SLICE` calls the walk yields to the
 * event loop, so timers and other I/O of the process still run. An injected
 * `StoreFs` (fault-injection tests) gets its asynchronous calls instead, so
 * faults reach walks the same way they reach every other write.
 */
import * as nodeSync from 'node:fs';
import { unlink as unlinkOnPool } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isErrno, nodeFs, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';

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
  if (fs !== nodeFs) return readFileIfExists(fs, path);
  await pace();
  try {
    return readSmallFileSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

// Most store files (records, commits, small objects) fit in one read into this
// buffer, which saves the fstat that readFileSync makes to size its buffer.
const scratch = Buffer.allocUnsafe(64 * 1024);

function readSmallFileSync(path: string): Buffer {
  const fd = nodeSync.openSync(path, 'r');
  try {
    const length = nodeSync.readSync(fd, scratch, 0, scratch.length, 0);
    if (length < scratch.length) return Buffer.from(scratch.subarray(0, length));
  } finally {
    nodeSync.closeSync(fd);
  }
  return nodeSync.readFileSync(path);
}

/** `readdir`, [] for a missing directory. */
export async function readdirFast(fs: StoreFs, path: string): Promise<string[]> {
  if (fs !== nodeFs) return readdirIfExists(fs, path);
  await pace();
  try {
    return nodeSync.readdirSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return [];
    throw error;
  }
}

/** `stat`, null for a missing file. */
export async function statFast(fs: StoreFs, path: string): Promise<{ size: number; mtimeMs: number } | null> {
  if (fs === nodeFs) {
    await pace();
    return nodeSync.statSync(path, { throwIfNoEntry: false }) ?? null;
  }
  try {
    return await fs.stat(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

/**
 * `unlink`; answers false when the file was already gone. On Node's own file
 * system it is the thread-pool call, never the direct one: unlinks wait on
 * the file system's journal, and several in flight finish about twice as
 * fast as one at a time.
 */
export async function unlinkIfExists(fs: StoreFs, path: string): Promise<boolean> {
  try {
    await (fs === nodeFs ? unlinkOnPool(path) : fs.unlink(path));
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}
