/**
 * Comparing two snapshots: which logical keys one has and the other lacks,
 * and the diff of every key whose data differs. A snapshot names versions by
 * full key; when it holds several versions of one logical key, the newest
 * stands for the key.
 */
import { NotFoundError } from '../errors.js';
import type { StoreContext } from '../manager/context.js';
import { loadSnapshot } from '../manager/snapshots.js';
import { serialize } from '../model/codec.js';
import type { StateEntry } from '../model/types.js';
import { diffDocuments, type DocumentDiff } from './diff-documents.js';

export interface SnapshotKeyDiff extends DocumentDiff {
  key: string;
  /** Full keys of the compared versions. */
  from: string;
  to: string;
}

export interface SnapshotDiff {
  from: string;
  to: string;
  equal: boolean;
  /** Logical keys only in `to`. */
  added: string[];
  /** Logical keys only in `from`. */
  removed: string[];
  /** Logical keys in both whose data differs, with their diffs. */
  changed: SnapshotKeyDiff[];
  /** How many logical keys both hold with the same data. */
  unchanged: number;
}

/** Compares the entries of two loaded snapshots (`loadSnapshot` results), named `fromId` and `toId`. */
export async function diffSnapshotEntries(
  fromId: string,
  fromEntries: Record<string, StateEntry>,
  toId: string,
  toEntries: Record<string, StateEntry>,
): Promise<SnapshotDiff> {
  const before = newestPerKey(fromEntries);
  const after = newestPerKey(toEntries);
  const added = [...after.keys()].filter((key) => !before.has(key)).sort();
  const removed = [...before.keys()].filter((key) => !after.has(key)).sort();
  const changed: SnapshotKeyDiff[] = [];
  let unchanged = 0;
  for (const key of [...before.keys()].filter((k) => after.has(k)).sort()) {
    const a = before.get(key)!;
    const b = after.get(key)!;
    if (a.checksum === b.checksum) {
      unchanged++;
      continue;
    }
    const diff = await diffDocuments(jsonForm(a.data), jsonForm(b.data));
    if (diff.equal) unchanged++;
    else changed.push({ key, from: a.id, to: b.id, ...diff });
  }
  return { from: fromId, to: toId, equal: added.length + removed.length + changed.length === 0, added, removed, changed, unchanged };
}

function newestPerKey(entries: Record<string, StateEntry>): Map<string, StateEntry> {
  const newest = new Map<string, StateEntry>();
  for (const entry of Object.values(entries)) {
    const current = newest.get(entry.logicalKey);
    if (current === undefined || entry.timestamp > current.timestamp) newest.set(entry.logicalKey, entry);
  }
  return newest;
}

/** The stored JSON form of data, as `diffVersions` compares it. */
function jsonForm(data: unknown): unknown {
  return JSON.parse(serialize(data).toString('utf8'));
}

/** Compares two snapshots of the store by id; a snapshot that does not exist is a `NotFoundError`. */
export async function diffSnapshots(ctx: StoreContext, fromId: string, toId: string): Promise<SnapshotDiff> {
  const [fromEntries, toEntries] = await Promise.all([loadSnapshot(ctx, fromId), loadSnapshot(ctx, toId)]);
  if (fromEntries === null) throw new NotFoundError(`snapshot ${JSON.stringify(fromId)}`, { snapshotId: fromId });
  if (toEntries === null) throw new NotFoundError(`snapshot ${JSON.stringify(toId)}`, { snapshotId: toId });
  return diffSnapshotEntries(fromId, fromEntries, toId, toEntries);
}
