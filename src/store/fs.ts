/**
 * The file-system surface the store uses. Everything that writes goes through
 * a `StoreFs`, so tests can inject ENOSPC, EIO or a "crash" between two steps
 * without mocking the whole `fs` module. The default, `nodeFs`, is Node's file
 * system making its small calls directly and fsync on the thread pool (see
 * direct-fs.ts); `fs/promises` itself fits the interface too.
 */
import type { Stats } from 'node:fs';
import type * as fsp from 'node:fs/promises';
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
  StoreFsSync;

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
