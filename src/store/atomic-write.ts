/**
 * Atomic, durable file writes: write a temporary file in the store's local
 * temp directory, fsync it, rename it over the target. A reader sees the old
 * file or the whole new one, never a part. The rename is made durable by
 * fsyncing the target's directory, which callers batch with `syncDirs` so that
 * one commit pays for each directory once.
 */
import { basename, join } from 'node:path';
import type { StoreFs } from './fs.js';

let tempCounter = 0;

/** Temp names carry the pid, so recovery can tell a dead writer's leftovers from a live one's. */
export function tempPathFor(tmpDir: string, target: string): string {
  tempCounter = (tempCounter + 1) % 1_000_000_000;
  return join(tmpDir, `${process.pid}.${tempCounter}.${basename(target).slice(0, 60)}.tmp`);
}

/** Writes `data` to a new file and fsyncs it; the file must not exist. */
export async function writeDurableFile(fs: StoreFs, path: string, data: Uint8Array): Promise<void> {
  const handle = await fs.open(path, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces (or creates) `target` with `data` atomically. The caller must fsync
 * `dirname(target)` (see `syncDirs`) before relying on the rename surviving a
 * machine crash.
 */
export async function writeFileAtomic(fs: StoreFs, tmpDir: string, target: string, data: Uint8Array): Promise<void> {
  const temp = tempPathFor(tmpDir, target);
  try {
    await writeDurableFile(fs, temp, data);
    await fs.rename(temp, target);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** fsyncs directories (in parallel) so that renames into them are durable. */
export async function syncDirs(fs: StoreFs, dirs: Iterable<string>): Promise<void> {
  await Promise.all(
    [...new Set(dirs)].map(async (dir) => {
      const handle = await fs.open(dir, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }),
  );
}
