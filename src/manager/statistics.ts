/**
 * `getStatistics()` is synchronous in the reference API, so it reads the
 * store with synchronous calls: one pass over the ref directories and one
 * over the object directories. Only published versions count.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { VersionRecord } from '../model/records.js';
import type { StateStatistics } from '../model/types.js';
import { parseVersionRecord } from '../store/refs.js';
import type { StoreContext } from './context.js';

export function readStatistics(ctx: StoreContext, activeTransactions: number): StateStatistics {
  const records = readPublishedRecordsSync(ctx);
  const keys = new Set(records.map((r) => r.logicalKey));
  let oldest: string | null = null;
  let newest: string | null = null;
  for (const r of records) {
    if (oldest === null || r.timestamp < oldest) oldest = r.timestamp;
    if (newest === null || r.timestamp > newest) newest = r.timestamp;
  }
  const totalSize = records.reduce((sum, r) => sum + r.size, 0);
  const { objectCount, objectBytes } = measureObjectsSync(ctx.layout.objects);
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
    objectCount,
    spaceSaving: totalSize === 0 ? 0 : 1 - objectBytes / totalSize,
  };
}

function readPublishedRecordsSync(ctx: StoreContext): VersionRecord[] {
  const records: VersionRecord[] = [];
  const published = new Map<string, boolean>();
  for (const dir of listSync(ctx.layout.keyRefs)) {
    const dirPath = join(ctx.layout.keyRefs, dir);
    for (const name of listSync(dirPath)) {
      if (!name.endsWith('.json')) continue;
      const path = join(dirPath, name);
      let record: VersionRecord;
      try {
        record = parseVersionRecord(readFileSync(path), path);
      } catch {
        continue; // Damaged or vanished refs are fsck's business, not a statistic.
      }
      let isPublished = published.get(record.commit);
      if (isPublished === undefined) {
        isPublished = existsSync(ctx.commits.pathOf(record.commit));
        published.set(record.commit, isPublished);
      }
      if (isPublished) records.push(record);
    }
  }
  return records;
}

function measureObjectsSync(objectsDir: string): { objectCount: number; objectBytes: number } {
  let objectCount = 0;
  let objectBytes = 0;
  for (const fanout of listSync(objectsDir)) {
    if (!/^[0-9a-f]{2}$/.test(fanout)) continue;
    for (const name of listSync(join(objectsDir, fanout))) {
      try {
        objectBytes += statSync(join(objectsDir, fanout, name)).size;
        objectCount++;
      } catch {
        // Removed by a concurrent GC.
      }
    }
  }
  return { objectCount, objectBytes };
}

function listSync(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
