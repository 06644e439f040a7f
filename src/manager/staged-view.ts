/**
 * Read-your-own-writes: the versions a transaction has staged, shown to that
 * transaction's own reads as the newest versions of their keys. Pure; the
 * objects staged saves name are already written, so reading their data goes
 * through the object store as for committed versions. Nothing here is
 * visible to other async contexts, instances or processes: they read refs,
 * and staged saves have none until the commit.
 */
import { buildVersionRecord, lastTakenVersion, type VersionRecord } from '../model/records.js';
import type { StagedVersion } from '../store/publish.js';
import type { CommittedVersion } from '../store/version-index.js';

/**
 * Committed versions (oldest first) followed by the staged ones, numbered as
 * publishing them would number them now: each the previous + 1. A commit of
 * another writer before this transaction's can still move their numbers and
 * timestamps, exactly as it would for saves made after it.
 */
export function overlayStaged(committed: readonly CommittedVersion[], staged: readonly StagedVersion[], txId: string): CommittedVersion[] {
  if (staged.length === 0) return [...committed];
  const versions = [...committed];
  const newest = committed.at(-1);
  let previous = newest === undefined ? 0 : lastTakenVersion(newest);
  for (const save of staged) {
    previous += 1;
    versions.push({ version: previous, record: stagedRecord(save, previous, txId), path: '' });
  }
  return versions;
}

function stagedRecord(save: StagedVersion, version: number, txId: string): VersionRecord {
  // Not a commit id: staged versions belong to no commit yet.
  return buildVersionRecord(save, save.timestamp, version, `staged:${txId}`);
}
