/**
 * Writes one refresh of the statistics index, after the figures were
 * returned. One process writes at a time (the directory `local/stats/writing`
 * is its lock), and only over the main file the refresh started from: a
 * refresh that lost the race is dropped, not merged. Sidecars go first, each
 * whole (temporary file, rename), the main file last; any failure on the way,
 * or a lock left by a writer that died, removes the main file, so the index
 * is rebuilt rather than read half written.
 */
import { dirname, join } from 'node:path';
import { isStatsIndexMain } from '../model/statistics-index.js';
import { tempPathFor } from '../store/atomic-write.js';
import { isErrno } from '../store/fs.js';
import type { StoreContext } from './context.js';
import { readJson } from './statistics-index-update.js';

/** A lock older than this was left by a writer that died: a refresh writes a few megabytes at most. */
const STALE_LOCK_MS = 60_000;

export async function writeIndexFiles(ctx: StoreContext, directory: string, files: Map<string, unknown>, baseSeq: number): Promise<void> {
  const { fs, layout } = ctx;
  // Statistics of a store that does not exist (yet) create nothing: the index lives in an existing `local/`.
  if (!(await fs.lstat(layout.local).then((stats) => stats.isDirectory(), () => false))) return;
  const mainPath = join(directory, 'main.json');
  const lock = join(directory, 'writing');
  await fs.mkdir(directory, { recursive: true });
  try {
    await fs.mkdir(lock);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
    const stats = await fs.lstat(lock).catch(() => null);
    if (stats !== null && Date.now() - stats.mtimeMs > STALE_LOCK_MS) {
      await fs.unlink(mainPath).catch(() => undefined);
      await fs.rm(lock, { recursive: true, force: true });
    }
    return;
  }
  try {
    const current = readJson(fs, mainPath);
    if ((isStatsIndexMain(current) ? current.seq : 0) !== baseSeq) return;
    await fs.mkdir(layout.tmp, { recursive: true });
    const names = [...files.keys()].filter((name) => name !== 'main.json');
    if (files.has('main.json')) names.push('main.json');
    const made = new Set<string>();
    for (const [i, name] of names.entries()) {
      // A first build writes tens of thousands of files: a new name in the lock now and then keeps its mtime fresh, so it is not taken for a dead writer's.
      if (i > 0 && i % 1000 === 0) await fs.writeFile(join(lock, `alive-${i}`), '');
      const target = join(directory, name);
      if (!made.has(dirname(target))) {
        await fs.mkdir(dirname(target), { recursive: true });
        made.add(dirname(target));
      }
      const temp = tempPathFor(layout.tmp, target);
      await fs.writeFile(temp, JSON.stringify(files.get(name)));
      await fs.rename(temp, target);
    }
  } catch (error) {
    await fs.unlink(mainPath).catch(() => undefined);
    throw error;
  } finally {
    await fs.rm(lock, { recursive: true, force: true }).catch(() => undefined);
  }
}
