/**
 * Publishing versions that come from outside (a JSON backup, the legacy
 * single-file database, a snapshot tar) through the normal commit path, so
 * refs, commits and version numbers stay consistent.
 *
 * Rule, per imported version, in (logicalKey, timestamp) order:
 *  - "already present": the store has a visible version with the same full
 *    key and checksum. Nothing is written: importing twice is a no-op.
 *  - "older": its timestamp is not after the key's newest visible version.
 *    It is skipped and reported as such: an import never makes older data
 *    the key's latest version, and never inserts a version into the middle
 *    of a key's history (which would move the numbers of the versions after it).
 *  - "new": published with its own timestamp, and with its own version number
 *    when that is above the key's newest (else newest + 1).
 * All new versions are published in one commit; `maxVersions` is applied at
 * each key's next save, so an import never drops what it was asked to keep.
 */
import type { VersionRecord } from '../model/records.js';
import { unlinkIfExists } from '../store/bulk-io.js';
import type { PackWriter } from '../store/pack-writer.js';
import { publishCommit, type StagedVersion } from '../store/publish.js';
import { FILE_CONCURRENCY, mapLimit } from '../store/write-pool.js';
import type { StoreContext } from './context.js';
import { compareStrings } from './key-catalog.js';

export interface ImportResult {
  /** For every input version that is in the key's history now (new or already present), in input order. */
  records: VersionRecord[];
  /** The commit that published the new versions; null when there were none. */
  commit: string | null;
  /** Versions newly published. */
  published: number;
  /** Versions the store already had (same full key and checksum). */
  present: number;
  /** Versions skipped because the key has a newer (or same-time) version. */
  older: number;
  /** `present + older`: input versions that were not published. */
  skipped: number;
}

/** An import's result together with the staged versions it skipped as older (for snapshot trees). */
export interface ImportOutcome extends ImportResult {
  olderVersions: StagedVersion[];
}

/** Sorts staged versions the way they must be published: per key, oldest first. */
export function sortForImport(staged: StagedVersion[]): StagedVersion[] {
  return staged.sort((a, b) => compareStrings(a.logicalKey, b.logicalKey) || compareStrings(a.timestamp, b.timestamp));
}

type Disposition = VersionRecord | 'older' | 'new';

/** Publishes imported versions (see the module comment). The caller holds the write lock. */
export async function publishImportedLocked(ctx: StoreContext, staged: readonly StagedVersion[], message: string, pack?: PackWriter): Promise<ImportOutcome> {
  // Per key: its newest timestamp, and its versions by full key and checksum.
  const listings = new Map<string, { latest: string | undefined; byIdentity: Map<string, VersionRecord> }>();
  const identity = (v: { timestamp: string; checksum: string }) => `${v.timestamp}\u0000${v.checksum}`;
  for (const logicalKey of new Set(staged.map((save) => save.logicalKey))) {
    const { versions } = await ctx.index.list(logicalKey);
    listings.set(logicalKey, { latest: versions.at(-1)?.record.timestamp, byIdentity: new Map(versions.map((v) => [identity(v.record), v.record])) });
  }
  const dispositions: Disposition[] = staged.map((save) => {
    const { latest, byIdentity } = listings.get(save.logicalKey)!;
    const same = byIdentity.get(identity(save));
    if (same !== undefined) return same;
    return latest !== undefined && !(save.timestamp > latest) ? 'older' : 'new';
  });
  const fresh = staged.filter((_, i) => dispositions[i] === 'new');
  const published = fresh.length === 0 ? null : await publishCommit(ctx, fresh, { message, transaction: null, now: ctx.clock(), pack });
  let next = 0;
  const records: VersionRecord[] = [];
  for (const disposition of dispositions) {
    if (disposition === 'new') records.push(published!.records[next++]!);
    else if (disposition !== 'older') records.push(disposition);
  }
  if (published !== null) {
    ctx.events.emit('committed', {
      commitId: published.id,
      keys: published.records.map((r) => r.fullKey),
      transactionId: null,
      operationCount: published.records.length,
    });
  }
  const olderVersions = staged.filter((_, i) => dispositions[i] === 'older');
  const present = staged.length - fresh.length - olderVersions.length;
  return { records, commit: published?.id ?? null, published: fresh.length, present, older: olderVersions.length, skipped: present + olderVersions.length, olderVersions };
}

/**
 * Removes the objects a failed import created. The caller still holds the
 * write lock it wrote them under, so no commit can have named them since; a
 * save in another process that staged the same content meanwhile finds its
 * object gone at its commit and fails with "save again", as after GC.
 */
export async function removeCreatedObjects(ctx: StoreContext, checksums: Iterable<string>): Promise<void> {
  await mapLimit(checksums, FILE_CONCURRENCY, (checksum) => unlinkIfExists(ctx.fs, ctx.objects.pathOf(checksum)));
}
