/**
 * Publishing a commit: the one path by which versions become visible, for a
 * single save and for a whole transaction alike. Runs under the store lock.
 *
 * Order of steps, and the crash each protects against. Two rounds of
 * fsyncs, each fully parallel: the least this on-disk shape allows, since a
 * commit file must not become durable before everything it names.
 *  1. Objects were written (renamed into place) when the saves were staged.
 *  2. The commit's publish record is created, holding the commit file's
 *     bytes (staging.ts); then each ref is renamed into place whole, naming
 *     the commit id, but not yet fsynced. Until step 4 the refs are
 *     invisible: readers skip refs whose commit is in progress. A crash here
 *     leaves only invisible refs, which the next writer removes because the
 *     dead writer's publish record names them (by the commit id inside, or
 *     by the commit suffix of the file name when a machine crash tore it).
 *  3. Round one: the objects, the refs, the publish record and every
 *     directory they were written into are fsynced at once: no published
 *     ref can outlive its data, and the record that marks a dead writer's
 *     refs as debris is durable with them.
 *  4. Round two: the publish record is renamed into `commits/` as the commit
 *     file, and that directory fsynced: the commit point. Before it, none of
 *     the commit is visible; after it, all of it is, and it survives a crash
 *     of the machine.
 */
import { CommitNotDurableError, InvalidDataError } from '../errors.js';
import { fileStemToTimestamp, makeFullKey, nextTimestamp } from '../model/keys.js';
import {
  commitRecordProblem,
  buildVersionRecord,
  FORMAT_VERSION,
  lastTakenVersion,
  versionRecordProblem,
  type CommitRecord,
  type VersionMetadata,
  type VersionRecord,
} from '../model/records.js';
import { syncDirs, syncPaths } from './atomic-write.js';
import { settleVersionNumbers } from './settle-numbers.js';
import { FILE_CONCURRENCY, mapLimit } from './write-pool.js';
import type { ChangeLog } from './change-log.js';
import type { CommitLog } from './commits.js';
import type { StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import type { ObjectStore } from './objects.js';
import { syncCommitObjects, type PackWriter } from './pack-writer.js';
import type { RefStore } from './refs.js';
import type { VersionIndex } from './version-index.js';
import { removePublishRecord, writePublishRecord } from './staging.js';

/** A save whose object is written and which waits for a commit to publish it. */
export interface StagedVersion extends VersionMetadata {
  logicalKey: string;
  /** The timestamp proposed at staging time; moved later if the key has a newer version by then. */
  timestamp: string;
  checksum: string;
  compressed: boolean;
  size: number;
  /** A version number to keep (imports of backups and snapshots); the published number is never below the key's previous + 1. */
  version?: number;
  /** Its object was written as a new loose file when staged (as `StoredObject.isNewLoose`). */
  isNewLoose?: true;
}

export interface PublishContext {
  fs: StoreFs;
  objects: ObjectStore;
  layout: StoreLayout;
  refs: RefStore;
  commits: CommitLog;
  index: VersionIndex;
  changeLog: ChangeLog;
}

export interface PublishedCommit {
  id: string;
  commit: CommitRecord;
  records: VersionRecord[];
}

export async function publishCommit(
  ctx: PublishContext,
  staged: readonly StagedVersion[],
  /** `pack`: the pack holding the commit's new objects, published with its refs (pack-writer.ts). */
  details: { message: string; transaction: string | null; now?: number; pack?: PackWriter },
  /**
   * Work that needs the commit published (removing the versions beyond
   * `maxVersions`, say); it runs right after the commit point and returns the
   * directories it changed, which are fsynced together with `commits/`. It
   * is told how many versions each key has now, as listed under the lock.
   */
  afterCommitPoint?: (records: readonly VersionRecord[], versionCounts: ReadonlyMap<string, number>) => Promise<string[]>,
): Promise<PublishedCommit> {
  if (staged.length === 0) throw new InvalidDataError('a commit needs at least one version');
  const now = details.now ?? Date.now();
  const latestByKey = new Map<string, { version: number; timestamp: string }>();
  // Versions per key once this commit is published: the listed ones, plus the staged ones.
  const versionCounts = new Map<string, number>();
  for (const save of staged) versionCounts.set(save.logicalKey, (versionCounts.get(save.logicalKey) ?? 0) + 1);
  const settledDirs: string[] = [];
  for (const logicalKey of new Set(staged.map((s) => s.logicalKey))) {
    const { versions, unpublished } = await ctx.index.list(logicalKey);
    // We hold the lock, so unpublished refs are debris of a killed commit.
    await Promise.all(unpublished.map((path) => ctx.refs.remove(path)));
    // Numbers are settled before this commit's maxVersions cleanup can remove
    // older refs (version-index.ts); made durable with the commit's own refs.
    const { dirs, settled } = await settleVersionNumbers(ctx.refs, versions);
    for (const ref of settled) ctx.index.remember(ref.path, ref.record);
    settledDirs.push(...dirs);
    versionCounts.set(logicalKey, versions.length + versionCounts.get(logicalKey)!);
    const latest = versions.at(-1);
    if (latest) latestByKey.set(logicalKey, { version: lastTakenVersion(latest), timestamp: latest.record.timestamp });
  }

  const parent = await ctx.commits.head();
  const parentTime = parent === null ? undefined : (fileStemToTimestamp(parent.slice(0, parent.lastIndexOf('_'))) ?? undefined);
  const time = nextTimestamp(parentTime, now);
  const planned = staged.map((save) => {
    const previous = latestByKey.get(save.logicalKey);
    // An import keeps its timestamp and number only when it is newer than the
    // key's newest version; otherwise it is the next version, as a save is.
    const isNewer = previous === undefined || save.timestamp > previous.timestamp;
    const timestamp = isNewer ? save.timestamp : nextTimestamp(previous.timestamp, now);
    const version = isNewer ? Math.max((previous?.version ?? 0) + 1, save.version ?? 0) : previous.version + 1;
    // Readers refuse a record whose number is not a safe integer: refuse to write one (nothing is visible yet).
    if (!Number.isSafeInteger(version)) {
      throw new InvalidDataError(`${JSON.stringify(save.logicalKey)} has no version number left after ${previous?.version ?? 0}`, { logicalKey: save.logicalKey });
    }
    latestByKey.set(save.logicalKey, { version, timestamp });
    return { save, timestamp, version, fullKey: makeFullKey(save.logicalKey, timestamp) };
  });

  const commit: CommitRecord = {
    format: FORMAT_VERSION,
    parent,
    time,
    message: details.message,
    transaction: details.transaction,
    operations: planned.map((p) => ({ fullKey: p.fullKey, logicalKey: p.save.logicalKey, version: p.version, checksum: p.save.checksum })),
  };
  // The project's git HEAD when the commit's last save was staged; versions keep their own.
  const git = [...staged].reverse().find((s) => s.git !== undefined)?.git;
  if (git !== undefined) commit.git = git;
  const { id, bytes } = ctx.commits.prepare(commit);

  const records = planned.map(({ save, timestamp, version }) => buildVersionRecord(save, timestamp, version, id));

  // The validators readers apply, applied before anything is written: the
  // store never publishes a record it would refuse to read (an import's
  // metadata, say).
  for (const record of records) {
    const problem = versionRecordProblem(record);
    if (problem !== null) throw new InvalidDataError(`version ${record.fullKey} ${problem}`, { key: record.fullKey });
  }
  const commitProblem = commitRecordProblem(commit);
  if (commitProblem !== null) throw new InvalidDataError(`commit ${id} ${commitProblem}`, { commitId: id });
  // The publish record holds the commit's bytes; it exists before any ref.
  const publishRecord = await writePublishRecord(ctx.fs, ctx.layout, id, bytes);
  // Round one, every fsync in parallel: ref files and their directories, the
  // objects and theirs, the publish record and `local/staging/`, and the
  // directories of settled refs. Nothing here is visible yet, so the order
  // among them does not matter; all of it is durable before the commit point.
  // Each branch settles before a failure is handled, so no write is still in
  // flight when the refs are removed.
  const [refWrites, objectSync, ownFiles] = await Promise.allSettled([
    writeAndSyncRefs(ctx, records),
    syncCommitObjects(ctx.objects, staged.map((s) => s.checksum), details.pack).then(async (objects) => {
      await syncDirs(ctx.fs, objects.dirs);
      return objects;
    }),
    Promise.allSettled([publishRecord.flushed, syncPaths(ctx.fs, [ctx.layout.staging, ...settledDirs])]).then(throwFirstRejection),
  ]);
  if (refWrites.status === 'rejected' || objectSync.status === 'rejected' || ownFiles.status === 'rejected') {
    await removeUnpublishedRefs(ctx, id, records);
    throw [refWrites, objectSync, ownFiles].find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
  }
  objectSync.value.markDurable();
  // Round two: the commit point, the publish record's rename into `commits/`,
  // made durable with `commits/` below.
  try {
    ctx.changeLog.notePublishing(id);
    await ctx.commits.publish(id, publishRecord.path);
  } catch (error) {
    await removeUnpublishedRefs(ctx, id, records);
    throw error;
  }
  for (const record of records) ctx.index.remember(ctx.refs.pathOf(record), record);
  const changedDirs = afterCommitPoint === undefined ? [] : await afterCommitPoint(records, versionCounts);
  try {
    await ctx.commits.writeHead(id);
    await syncDirs(ctx.fs, [ctx.layout.commits, ...changedDirs]);
  } catch (error) {
    // Past the commit point the commit is visible and cannot be taken back
    // (readers may have seen it); say exactly that instead of "failed".
    throw new CommitNotDurableError(id, error);
  }
  return { id, commit, records };
}

/**
 * Writes every ref of a commit, each fsynced from the moment it is in place
 * (on the descriptor that wrote it), then fsyncs their directories once all
 * the renames into them are done. Every write and every fsync settles before
 * the first failure is thrown (mapLimit would stop at it), so the caller's
 * cleanup never races a write still in flight.
 */
async function writeAndSyncRefs(ctx: PublishContext, records: readonly VersionRecord[]): Promise<void> {
  const writes = await mapLimit(records, FILE_CONCURRENCY, (record) =>
    ctx.refs.writeFlushing(record).then(
      (written) => ({ written }),
      (error: unknown) => ({ error }),
    ),
  );
  const written = writes.flatMap((w) => ('written' in w ? [w.written] : []));
  const failed = writes.find((w): w is { error: unknown } => 'error' in w);
  if (failed !== undefined) {
    await Promise.allSettled(written.map((w) => w.flushed));
    throw failed.error;
  }
  const [files, dirs] = await Promise.allSettled([
    Promise.all(written.map((w) => w.flushed)),
    syncPaths(ctx.fs, written.flatMap((w) => w.dirs)),
  ]);
  if (files.status === 'rejected') {
    await Promise.allSettled(written.map((w) => w.flushed));
    throw files.reason;
  }
  if (dirs.status === 'rejected') throw dirs.reason;
}

/** Rethrows the first failure of settled work, once all of it has settled. */
function throwFirstRejection(results: readonly PromiseSettledResult<unknown>[]): void {
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/**
 * After a failure before the commit point: removes the refs this commit
 * wrote, then its publish record. If a ref cannot be removed the record
 * stays, so the refs are removed as debris once this process has ended.
 */
async function removeUnpublishedRefs(ctx: PublishContext, id: string, records: readonly VersionRecord[]): Promise<void> {
  try {
    await Promise.all(records.map((record) => ctx.refs.remove(ctx.refs.pathOf(record))));
    await removePublishRecord(ctx.fs, ctx.layout, id);
  } catch {
    // Left to the next writer after this process ends (see above).
  }
}
