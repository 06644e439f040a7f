/**
 * Publishing versions that come from outside (a JSON backup, the legacy
 * single-file database, a snapshot tar) through the normal commit path, so
 * refs, commits and version numbers stay consistent.
 *
 * Rule, per imported version, in (logicalKey, timestamp) order:
 *  - if the store already has a visible version with the same full key and
 *    checksum, it is that version (nothing is written: importing twice is a
 *    no-op);
 *  - otherwise it is published with its own timestamp and version number
 *    when both are newer than the key's newest version, else as the key's
 *    next version (timestamp just after the newest one, or now; number
 *    newest + 1), as any save would be.
 * All new versions are published in one commit; `maxVersions` is applied at
 * each key's next save, so an import never drops what it was asked to keep.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { VersionRecord } from '../model/records.js';
import { publishCommit, type StagedVersion } from '../store/publish.js';
import type { StoreContext } from './context.js';
import { compareStrings } from './key-catalog.js';

export interface ImportResult {
  /** For every input version, in input order, the version as it is in the store now. */
  records: VersionRecord[];
  /** The commit that published the new versions; null when all of them existed. */
  commit: string | null;
  published: number;
  skipped: number;
}

/** Sorts staged versions the way they must be published: per key, oldest first. */
export function sortForImport(staged: StagedVersion[]): StagedVersion[] {
  return staged.sort((a, b) => compareStrings(a.logicalKey, b.logicalKey) || compareStrings(a.timestamp, b.timestamp));
}

/** Publishes imported versions (see the module comment). The caller holds the write lock. */
export async function publishImportedLocked(ctx: StoreContext, staged: readonly StagedVersion[], message: string): Promise<ImportResult> {
  const existing: Array<VersionRecord | null> = [];
  // In chunks: thousands of parallel reads would only queue up and hold file handles.
  for (let i = 0; i < staged.length; i += 64) {
    existing.push(...(await Promise.all(staged.slice(i, i + 64).map((save) => findSame(ctx, save)))));
  }
  const fresh = staged.filter((_, i) => existing[i] === null);
  const published = fresh.length === 0 ? null : await publishCommit(ctx, fresh, { message, transaction: null, now: ctx.clock() });
  let next = 0;
  const records = staged.map((_, i) => existing[i] ?? published!.records[next++]!);
  if (published !== null) {
    ctx.events.emit('committed', {
      commitId: published.id,
      keys: published.records.map((r) => r.fullKey),
      transactionId: null,
      operationCount: published.records.length,
    });
  }
  return { records, commit: published?.id ?? null, published: fresh.length, skipped: staged.length - fresh.length };
}

async function findSame(ctx: StoreContext, save: StagedVersion): Promise<VersionRecord | null> {
  const record = await ctx.refs.readIfExists(ctx.refs.pathOf(save.logicalKey, save.timestamp));
  if (record === null || record.checksum !== save.checksum || record.logicalKey !== save.logicalKey) return null;
  return (await ctx.commits.isPublished(record.commit)) ? record : null;
}

/**
 * Writes `local/staging/<id>.json` naming `checksums`, so that garbage
 * collection in any process keeps the objects an import writes before it
 * publishes them (the protocol of open transactions). Returns the function
 * that removes the pin again.
 */
export async function pinObjects(ctx: StoreContext, checksums: Iterable<string>): Promise<() => Promise<void>> {
  const id = `import_${randomUUID()}`;
  const path = join(ctx.layout.staging, `${id}.json`);
  await ctx.fs.mkdir(ctx.layout.staging, { recursive: true });
  await ctx.fs.writeFile(path, JSON.stringify({ txId: id, pid: process.pid, checksums: [...new Set(checksums)] }));
  return () => ctx.fs.unlink(path).catch(() => undefined);
}
