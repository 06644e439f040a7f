/**
 * Every logical key of the store with its visible versions. Key directory
 * names are one-way encodings, so the logical key is taken from a ref file
 * in the directory and the key is then listed through the `VersionIndex`,
 * which applies the store's visibility and version-numbering rules.
 */
import { join } from 'node:path';
import { readdirIfExists } from '../store/fs.js';
import type { CommittedVersion } from '../store/version-index.js';
import type { StoreContext } from './context.js';

export interface KeyVersions {
  logicalKey: string;
  /** Visible versions, oldest first; never empty. */
  versions: CommittedVersion[];
}

// Enough small reads in flight to keep the disk busy, bounded so memory does not grow with the store.
const CONCURRENCY = 32;

/** All keys that have at least one visible version, sorted by logical key. */
export async function listAllKeys(ctx: StoreContext): Promise<KeyVersions[]> {
  const dirs = await ctx.refs.listKeyDirs();
  const found: KeyVersions[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < dirs.length) {
      const listing = await readKeyDir(ctx, dirs[next++]!);
      if (listing !== null) found.push(listing);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return found.sort((a, b) => compareStrings(a.logicalKey, b.logicalKey));
}

export async function readKeyDir(ctx: StoreContext, dirName: string): Promise<KeyVersions | null> {
  const dir = join(ctx.layout.keyRefs, dirName);
  const names = (await readdirIfExists(ctx.fs, dir)).filter((name) => name.endsWith('.json')).sort();
  // The newest ref first: it is the one most likely to be published.
  for (const name of names.reverse()) {
    const record = await ctx.refs.readIfExists(join(dir, name));
    if (record === null) continue;
    const { versions } = await ctx.index.list(record.logicalKey);
    return versions.length === 0 ? null : { logicalKey: record.logicalKey, versions };
  }
  return null;
}

/** Code-unit order, the order of `Array.prototype.sort` and of full keys in trees. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
