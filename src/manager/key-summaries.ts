/**
 * One line per logical key: its newest visible version and how many it has,
 * for listings (the web view's keys page, `ae-state list`). Served from the
 * statistics index (statistics-index.ts), which knows each key directory's
 * visible versions, its newest ref and the number readers give it: a listing
 * reads one ref per key, checked against the commit that lists it, instead
 * of every ref. A key whose newest ref does not bear the index out is listed
 * through the key catalog, as readers see it, which says why if it cannot.
 */
import { join } from 'node:path';
import type { VersionInfo } from '../model/types.js';
import { FILE_CONCURRENCY, mapLimit } from '../store/write-pool.js';
import type { StoreContext } from './context.js';
import { compareStrings, readKeyDir } from './key-catalog.js';
import type { StatisticsIndex } from './statistics-index.js';
import { toVersionInfo } from './versions.js';

export interface KeySummary {
  logicalKey: string;
  versionCount: number;
  latest: VersionInfo;
}

/** Every logical key with a visible version, sorted by logical key. */
export async function listKeySummaries(ctx: StoreContext, index: StatisticsIndex): Promise<KeySummary[]> {
  const keys = index.read().keys().filter(([, summary]) => summary.count > 0 && summary.latest !== null);
  const listed = await mapLimit(keys, FILE_CONCURRENCY, async ([dirName, summary]): Promise<KeySummary | null> => {
    const [file, version] = summary.latest!;
    const record = await ctx.refs.readIfExists(join(ctx.layout.keyRefs, dirName, file)).catch(() => null);
    const listedBy = record === null ? undefined : ((await ctx.commits.operationFor(record.commit, record.fullKey).catch(() => null)) ?? undefined);
    if (record !== null && listedBy !== undefined && listedBy.checksum === record.checksum && listedBy.logicalKey === record.logicalKey) {
      return { logicalKey: record.logicalKey, versionCount: summary.count, latest: toVersionInfo(record, version) };
    }
    const catalogued = await readKeyDir(ctx, dirName);
    if (catalogued === null) return null;
    const newest = catalogued.versions.at(-1)!;
    return { logicalKey: catalogued.logicalKey, versionCount: catalogued.versions.length, latest: toVersionInfo(newest.record, newest.version) };
  });
  return listed.filter((item): item is KeySummary => item !== null).sort((a, b) => compareStrings(a.logicalKey, b.logicalKey));
}
