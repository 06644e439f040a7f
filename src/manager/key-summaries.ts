/**
 * One line per logical key: its newest visible version and how many it has,
 * for listings (the web view's keys page). Reads through the key catalog, so
 * visibility and numbering follow the store's one rule.
 */
import type { VersionInfo } from '../model/types.js';
import type { StoreContext } from './context.js';
import { listAllKeys } from './key-catalog.js';
import { toVersionInfo } from './versions.js';

export interface KeySummary {
  logicalKey: string;
  versionCount: number;
  latest: VersionInfo;
}

/** Every logical key with a visible version, sorted by logical key. */
export async function listKeySummaries(ctx: StoreContext): Promise<KeySummary[]> {
  const keys = await listAllKeys(ctx);
  return keys.map(({ logicalKey, versions }) => {
    const newest = versions.at(-1)!;
    return { logicalKey, versionCount: versions.length, latest: toVersionInfo(newest.record, newest.version) };
  });
}
