/**
 * `getStatistics()` is synchronous in the reference API, so it reads the
 * store with the synchronous calls of its `StoreFs`: one pass over the ref
 * directories, one over the object directories and one over the whole store
 * for its size on disk. Only published versions count.
 */
import { join } from 'node:path';
import type { StoreFs } from '../store/fs.js';
import type { VersionRecord } from '../model/records.js';
import type { StateStatistics } from '../model/types.js';
import { readPackedSizesSync } from '../store/packs.js';
import { parseVersionRecord } from '../store/refs.js';
import type { StoreContext } from './context.js';
import type { StatisticsIndex } from './statistics-index.js';

/** The statistics from one pass over every ref and object: what the index must agree with. */
export function scanStatistics(ctx: StoreContext, activeTransactions: number): StateStatistics {
  const records = readPublishedRecordsSync(ctx);
  const keys = new Set(records.map((r) => r.logicalKey));
  let oldest: string | null = null;
  let newest: string | null = null;
  for (const r of records) {
    if (oldest === null || r.timestamp < oldest) oldest = r.timestamp;
    if (newest === null || r.timestamp > newest) newest = r.timestamp;
  }
  const totalSize = records.reduce((sum, r) => sum + r.size, 0);
  const objects = measureObjectsSync(ctx.fs, ctx.layout.objects);
  // A packed object counts as one object too, by its stored bytes (a loose copy, if any, wins).
  for (const [checksum, size] of readPackedSizesSync(ctx.fs, ctx.layout).sizes) if (!objects.has(checksum)) objects.set(checksum, size);
  let objectBytes = 0;
  for (const size of objects.values()) objectBytes += size;
  // Each distinct content once: its serialised size, and its size on disk.
  const distinct = new Map(records.map((r) => [r.checksum, r.size]));
  let distinctSize = 0;
  let distinctStored = 0;
  for (const [checksum, size] of distinct) {
    distinctSize += size;
    distinctStored += objects.get(checksum) ?? 0;
  }
  return {
    totalEntries: records.length,
    totalSize,
    compressedEntries: records.filter((r) => r.compressed).length,
    logicalKeys: keys.size,
    averageVersions: keys.size === 0 ? 0 : records.length / keys.size,
    oldestEntry: oldest,
    newestEntry: newest,
    activeTransactions,
    objectBytes,
    objectCount: objects.size,
    spaceSaving: totalSize === 0 ? 0 : 1 - objectBytes / totalSize,
    diskBytes: measureTreeSync(ctx.fs, ctx.layout.store),
    dedupSavedBytes: totalSize - distinctSize,
    compressionSavedBytes: distinctSize - distinctStored,
  };
}

function readPublishedRecordsSync(ctx: StoreContext): VersionRecord[] {
  const records: VersionRecord[] = [];
  const published = new Map<string, boolean>();
  for (const dir of listSync(ctx.fs, ctx.layout.keyRefs)) {
    const dirPath = join(ctx.layout.keyRefs, dir);
    for (const name of listSync(ctx.fs, dirPath)) {
      if (!name.endsWith('.json')) continue;
      const path = join(dirPath, name);
      let record: VersionRecord;
      try {
        record = parseVersionRecord(ctx.fs.readFileSync(path), path);
      } catch {
        continue; // Damaged or vanished refs are fsck's business, not a statistic.
      }
      let isPublished = published.get(record.commit);
      if (isPublished === undefined) {
        isPublished = isRegularFileSync(ctx.fs, ctx.commits.pathOf(record.commit));
        published.set(record.commit, isPublished);
      }
      if (isPublished) records.push(record);
    }
  }
  return records;
}

/** Bytes on disk of every object, by checksum. */
function measureObjectsSync(fs: StoreFs, objectsDir: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const fanout of listSync(fs, objectsDir)) {
    if (!/^[0-9a-f]{2}$/.test(fanout)) continue;
    for (const name of listSync(fs, join(objectsDir, fanout))) {
      // Undefined when removed by a concurrent GC.
      const stats = fs.lstatSync(join(objectsDir, fanout, name));
      if (stats?.isFile()) sizes.set(fanout + name, stats.size);
    }
  }
  return sizes;
}

/** Total bytes of the regular files under `dir` (symbolic links are not followed). */
function measureTreeSync(fs: StoreFs, dir: string): number {
  let bytes = 0;
  for (const name of listSync(fs, dir)) {
    const path = join(dir, name);
    const stats = fs.lstatSync(path);
    if (stats?.isDirectory()) bytes += measureTreeSync(fs, path);
    else if (stats?.isFile()) bytes += stats.size;
  }
  return bytes;
}

function isRegularFileSync(fs: StoreFs, path: string): boolean {
  try {
    return fs.lstatSync(path)?.isFile() === true;
  } catch {
    return false;
  }
}

/** A directory's names; [] when it is missing or cannot be listed (a link, say: fsck reports those). */
function listSync(fs: StoreFs, dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The statistics as `getStatistics()` reports them, from the statistics
 * index (src/manager/statistics-index.ts): the same figures as
 * `scanStatistics`, reading only the directories that changed since the
 * index was last brought up to date. `diskBytes` leaves out the index's own
 * directory, `local/stats/`, and the ref checks, `local/checked/`.
 */
export function readStatistics(ctx: StoreContext, activeTransactions: number, index: StatisticsIndex): StateStatistics {
  const { main, diskBytes } = index.read();
  const keys = Object.values(main.buckets).filter((bucket) => bucket.count > 0);
  const shards = Object.values(main.shards);
  const sum = <T>(items: T[], of: (item: T) => number) => items.reduce((total, item) => total + of(item), 0);
  const totalEntries = sum(keys, (k) => k.count);
  const totalSize = sum(keys, (k) => k.totalSize);
  const logicalKeys = sum(keys, (k) => k.keys);
  const objectBytes = sum(shards, (s) => s.objectBytes);
  const distinctSize = sum(shards, (s) => s.distinctSize);
  const oldest = keys.map((k) => k.oldest!).reduce<string | null>((a, b) => (a === null || b < a ? b : a), null);
  const newest = keys.map((k) => k.newest!).reduce<string | null>((a, b) => (a === null || b > a ? b : a), null);
  return {
    totalEntries,
    totalSize,
    compressedEntries: sum(keys, (k) => k.compressed),
    logicalKeys,
    averageVersions: logicalKeys === 0 ? 0 : totalEntries / logicalKeys,
    oldestEntry: oldest,
    newestEntry: newest,
    activeTransactions,
    objectBytes,
    objectCount: sum(shards, (s) => s.objectCount),
    spaceSaving: totalSize === 0 ? 0 : 1 - objectBytes / totalSize,
    diskBytes,
    dedupSavedBytes: totalSize - distinctSize,
    compressionSavedBytes: distinctSize - sum(shards, (s) => s.distinctStored),
  };
}
