/**
 * Publishing a commit: the one path by which versions become visible, for a
 * single save and for a whole transaction alike. Runs under the store lock.
 *
 * Order of steps, and the crash each protects against:
 *  1. Objects were written (renamed into place) when the saves were staged;
 *     here they and their directories are fsynced, in parallel with writing
 *     the refs, so no published ref can outlive the data it names.
 *  2. A publish record naming the commit is created first (staging.ts),
 *     and made durable with the refs; then each ref is written atomically, naming the commit
 *     id. Until step 3 the refs are invisible: readers skip refs whose commit
 *     is in progress. A crash here leaves only invisible refs, which the next
 *     writer removes because the dead writer's publish record names them.
 *  3. The commit file is renamed into `commits/` and that directory fsynced:
 *     the commit point. Before it, none of the commit is visible; after it,
 *     all of it is, and it survives a crash of the machine.
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
import { syncDirs } from './atomic-write.js';
import { settleVersionNumbers } from './settle-numbers.js';
import { FILE_CONCURRENCY, mapLimit } from './write-pool.js';
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
}

export interface PublishContext {
  fs: StoreFs;
  objects: ObjectStore;
  layout: StoreLayout;
  refs: RefStore;
  commits: CommitLog;
  index: VersionIndex;
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
   * directories it changed, which are fsynced together with `commits/`.
   */
  afterCommitPoint?: (records: readonly VersionRecord[]) => Promise<string[]>,
): Promise<PublishedCommit> {
  if (staged.length === 0) throw new InvalidDataError('a commit needs at least one version');
  const now = details.now ?? Date.now();
  const latestByKey = new Map<string, { version: number; timestamp: string }>();
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

  // Three rounds of fsyncs, each as parallel as the order allows: (a) object
  // files, ref files and the commit's temporary file; (b) the directories the
  // objects and refs were renamed into; (c) the commit's rename, the commit
  // point, and the commits directory.
  // The validators readers apply, applied before anything is written: the
  // store never publishes a record it would refuse to read (an import's
  // metadata, say).
  for (const record of records) {
    const problem = versionRecordProblem(record);
    if (problem !== null) throw new InvalidDataError(`version ${record.fullKey} ${problem}`, { key: record.fullKey });
  }
  const commitProblem = commitRecordProblem(commit);
  if (commitProblem !== null) throw new InvalidDataError(`commit ${id} ${commitProblem}`, { commitId: id });
  await writePublishRecord(ctx.fs, ctx.layout, id);
  // All three settle before a failure is handled, so no write is still in
  // flight when the refs written so far are removed.
  // (mapLimit stops at its first failure, so each ref write reports its own.)
  const [refWrites, objectSync, commitWrite] = await Promise.allSettled([
    mapLimit(records, FILE_CONCURRENCY, (record) => ctx.refs.write(record).then((dirs) => ({ dirs }), (error: unknown) => ({ error }))),
    syncCommitObjects(ctx.objects, staged.map((s) => s.checksum), details.pack),
    ctx.commits.writeTemp(id, bytes),
  ]);
  const refFailure = refWrites.status === 'fulfilled' ? refWrites.value.find((w): w is { error: unknown } => 'error' in w) : refWrites;
  if (refFailure !== undefined || objectSync.status === 'rejected' || commitWrite.status === 'rejected') {
    if (commitWrite.status === 'fulfilled') await ctx.fs.unlink(commitWrite.value).catch(() => undefined);
    await removeUnpublishedRefs(ctx, id, records);
    if (refFailure !== undefined) throw 'error' in refFailure ? refFailure.error : refFailure.reason;
    throw [objectSync, commitWrite].find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
  }
  const refDirs = (refWrites as PromiseFulfilledResult<Array<{ dirs: string[] }>>).value.map((w) => w.dirs);
  const [objects, commitTemp] = [objectSync.value, commitWrite.value];
  try {
    await syncDirs(ctx.fs, [...refDirs.flat(), ...objects.dirs, ...settledDirs, ctx.layout.staging]);
    objects.markDurable();
    await ctx.commits.publishTemp(id, commitTemp);
  } catch (error) {
    await ctx.fs.unlink(commitTemp).catch(() => undefined);
    await removeUnpublishedRefs(ctx, id, records);
    throw error;
  }
  for (const record of records) ctx.index.remember(ctx.refs.pathOf(record), record);
  const changedDirs = afterCommitPoint === undefined ? [] : await afterCommitPoint(records);
  try {
    await ctx.commits.writeHead(id);
    await syncDirs(ctx.fs, [ctx.layout.commits, ...changedDirs]);
    await removePublishRecord(ctx.fs, ctx.layout, id);
  } catch (error) {
    // Past the commit point the commit is visible and cannot be taken back
    // (readers may have seen it); say exactly that instead of "failed".
    throw new CommitNotDurableError(id, error);
  }
  return { id, commit, records };
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
