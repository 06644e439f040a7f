/**
 * Saving, loading and listing versions of a logical key.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { deserialize } from '../model/codec.js';
import { assertLogicalKey, keyDirName, nextTimestamp } from '../model/keys.js';
import { assertSnapshotPhase } from '../model/snapshot.js';
import type { VersionRecord } from '../model/records.js';
import type { SaveOptions, StateEntry, VersionInfo } from '../model/types.js';
import { publishCommit, type PublishedCommit, type StagedVersion } from '../store/publish.js';
import type { StoredObject } from '../store/objects.js';
import { FILE_CONCURRENCY, mapLimit } from '../store/write-pool.js';
import type { ObjectWriter, PackWriter } from '../store/pack-writer.js';
import type { CommittedVersion } from '../store/version-index.js';
import type { StoreContext } from './context.js';
import { overlayStaged } from './staged-view.js';

/**
 * A save that passed every check and is serialised, but whose object is not
 * written yet: what a save is before it joins a commit.
 */
export interface PreparedSave {
  serialized: Buffer;
  compress: boolean;
  /** The staged version without what only writing the object tells (checksum, compressed). */
  version: Omit<StagedVersion, 'checksum' | 'compressed'>;
}

/**
 * Checks a save and serialises its data, synchronously: every refusal (bad
 * key, options, phase or data) is thrown here, before anything is written or
 * queued.
 */
export function prepareSave(
  ctx: StoreContext,
  logicalKey: string,
  data: unknown,
  options: SaveOptions = {},
  context = 'saveSSOT',
): PreparedSave {
  assertLogicalKey(logicalKey);
  checkSaveOptions(options);
  // A phase that could not name a snapshot would be saved but never snapshotted.
  if (options.phase !== undefined) assertSnapshotPhase(options.phase);
  const serialized = ctx.metrics.serialize(data, context);
  const compress = ctx.options.enableCompression && serialized.length > ctx.options.compressionThreshold;
  const now = ctx.clock();
  const version: PreparedSave['version'] = {
    logicalKey,
    timestamp: nextTimestamp(undefined, now),
    size: serialized.length,
    tags: { ...(options.tags ?? {}) },
    source: options.source ?? 'unknown',
    created: new Date(now).toISOString(),
  };
  if (options.ttl !== undefined) version.ttl = options.ttl;
  if (options.phase !== undefined) version.phase = options.phase;
  return { serialized, compress, version };
}

/**
 * Writes the objects of prepared saves, all through this one call (a batch
 * of saves may one day write them as one file), and returns them staged;
 * nothing becomes visible until they are published. Rejects if any object
 * cannot be written; objects already written stay as unreferenced garbage.
 */
export async function writeSaveObjects(
  ctx: StoreContext,
  prepared: readonly PreparedSave[],
  /** A transaction's or a bulk write's pack; saves outside them write loose objects. */
  writer: ObjectWriter = ctx.objects,
): Promise<StagedVersion[]> {
  // Made durable by the commit that publishes them, which waits for all of their objects' fsyncs.
  // Each write settles before a failure is reported, so none is still in flight when the caller retries.
  const written = await mapLimit(prepared, FILE_CONCURRENCY, (save) =>
    writer.write(save.serialized, save.compress).then((object) => ({ object }), (error: unknown) => ({ error })),
  );
  const failed = written.find((w): w is { error: unknown } => 'error' in w);
  if (failed !== undefined) throw failed.error;
  const stored = written.map((w) => (w as { object: StoredObject }).object);
  const staged = prepared.map((save, i): StagedVersion => {
    const { checksum, compressed, isNewLoose } = stored[i]!;
    return { ...save.version, checksum, compressed, ...(isNewLoose === true && { isNewLoose }) };
  });
  if (ctx.options.recordGitProvenance) {
    // Loaded on the first save, so commands that only read never load it.
    const { readGitProvenance } = await import('../git/provenance.js');
    const git = await readGitProvenance(ctx.layout.root);
    if (git !== null) for (const version of staged) version.git = git;
  }
  return staged;
}

/**
 * Checks a save and writes its object; nothing becomes visible until the
 * staged version is published. Every check runs before the first write.
 */
export async function stageSave(
  ctx: StoreContext,
  logicalKey: string,
  data: unknown,
  options: SaveOptions = {},
  context = 'saveSSOT',
  /** A transaction's or a bulk write's pack; a single save writes a loose object. */
  writer: ObjectWriter = ctx.objects,
): Promise<StagedVersion> {
  const [staged] = await writeSaveObjects(ctx, [prepareSave(ctx, logicalKey, data, options, context)], writer);
  return staged!;
}

/** A published commit and what `maxVersions` removed right after it. */
export interface PublishedWithRetention {
  published: PublishedCommit;
  cleanups: VersionsCleanup[];
}

/**
 * Publishes staged versions as one commit, then applies `maxVersions` to the
 * keys it touched. The caller holds the write lock; nothing is announced.
 */
export async function publishStaged(
  ctx: StoreContext,
  staged: readonly StagedVersion[],
  details: { message: string; transaction: string | null; pack?: PackWriter },
): Promise<PublishedWithRetention> {
  let cleanups: VersionsCleanup[] = [];
  // The commit and its maxVersions cleanup change these keys' directories and add these objects, nothing else the statistics count.
  await ctx.changeLog.declare(
    staged.map((s) => keyDirName(s.logicalKey)),
    staged.map((s) => s.checksum),
    staged.filter((s) => s.isNewLoose === true).map((s) => s.checksum),
  );
  const published = await publishCommit(ctx, staged, { ...details, now: ctx.clock() }, async (records, versionCounts) => {
    // Keys within the limit need no second listing.
    const overLimit = [...new Set(records.map((r) => r.logicalKey))].filter((key) => (versionCounts.get(key) ?? Infinity) > ctx.options.maxVersions);
    cleanups = await enforceMaxVersions(ctx, new Set(overLimit));
    return cleanups.map((cleanup) => ctx.refs.dirOf(cleanup.logicalKey));
  });
  return { published, cleanups };
}

/**
 * Emits what a published commit did, after the lock is released: one
 * `ssotSaved` per version, `committed`, then `versionsCleanedUp` per key.
 * `data[i]` is the caller's value for the commit's `records[i]`, passed on in
 * the `ssotSaved` event's `entry` as the reference does.
 */
export function announceCommit(ctx: StoreContext, result: PublishedWithRetention, transaction: string | null, data: readonly unknown[]): void {
  const { published, cleanups } = result;
  published.records.forEach((record, i) => {
    ctx.events.emit('ssotSaved', {
      logicalKey: record.logicalKey,
      fullKey: record.fullKey,
      version: record.version,
      entry: toStateEntry(record, record.version, data[i], ctx.options.defaultTTL),
      key: record.fullKey,
      checksum: record.checksum,
      phase: record.phase,
      size: record.size,
      compressed: record.compressed,
      commit: published.id,
      transactionId: transaction ?? undefined,
    });
  });
  ctx.metrics.countPersisted();
  ctx.events.emit('committed', {
    commitId: published.id,
    keys: published.records.map((r) => r.fullKey),
    transactionId: transaction,
    operationCount: published.records.length,
  });
  for (const cleanup of cleanups) ctx.events.emit('versionsCleanedUp', cleanup);
}

/**
 * Publishes staged versions as one commit under the write lock, applies
 * `maxVersions` and announces it (see `announceCommit`).
 */
export async function commitStaged(
  ctx: StoreContext,
  staged: readonly StagedVersion[],
  details: { message: string; transaction: string | null; pack?: PackWriter },
  data: readonly unknown[] = [],
): Promise<PublishedCommit> {
  const result = await ctx.withWriteLock(() => publishStaged(ctx, staged, details));
  announceCommit(ctx, result, details.transaction, data);
  return result.published;
}

export interface VersionsCleanup {
  logicalKey: string;
  deletedCount: number;
  deletedKeys: string[];
  /** The numbers of the removed versions, oldest first. */
  deletedVersions: number[];
  /** The limit that removed them. */
  maxVersions: number;
}

/**
 * Removes the refs of the oldest versions beyond `maxVersions`. Runs under the
 * write lock, after the commit point: the new commit is visible by then, so a
 * failure here must not fail the save; it is reported as
 * `versionsCleanupFailed` and the next save of the key tries again.
 */
async function enforceMaxVersions(ctx: StoreContext, keys: Set<string>): Promise<VersionsCleanup[]> {
  const cleanups: VersionsCleanup[] = [];
  for (const logicalKey of keys) {
    try {
      const { versions } = await ctx.index.list(logicalKey);
      const excess = versions.length - ctx.options.maxVersions;
      if (excess <= 0) continue;
      const removed = versions.slice(0, excess);
      // Numbers were settled before the commit point, so the order of the removals does not matter.
      try {
        await ctx.refs.removeAll(removed.map((v) => v.path));
      } finally {
        for (const { path } of removed) ctx.index.forget(path);
      }
      cleanups.push({
        logicalKey,
        deletedCount: removed.length,
        deletedKeys: removed.map((v) => v.record.fullKey),
        deletedVersions: removed.map((v) => v.version),
        maxVersions: ctx.options.maxVersions,
      });
    } catch (error) {
      ctx.events.emit('versionsCleanupFailed', { logicalKey, error });
    }
  }
  return cleanups;
}

/** What a transaction has staged, for its own reads (see src/manager/staged-view.ts). */
export interface StagedReads {
  txId: string;
  staged: readonly StagedVersion[];
}

/** Committed versions of a key, oldest first, followed by those `own` has staged. */
async function listVisible(ctx: StoreContext, logicalKey: string, own: StagedReads | null): Promise<CommittedVersion[]> {
  const { versions } = await ctx.index.list(logicalKey);
  return own === null ? versions : overlayStaged(versions, own.staged, own.txId);
}

/** The visible version `version` of a key (the newest when omitted), or null. */
export async function findVersion(
  ctx: StoreContext,
  logicalKey: string,
  version?: number,
  own: StagedReads | null = null,
): Promise<CommittedVersion | null> {
  assertLogicalKey(logicalKey);
  if (version !== undefined && !(Number.isSafeInteger(version) && version >= 1)) {
    throw new InvalidArgumentError(`version must be an integer >= 1 (got ${String(version)})`, { version });
  }
  const versions = await listVisible(ctx, logicalKey, own);
  if (version === undefined) return versions.at(-1) ?? null;
  return versions.find((v) => v.version === version) ?? null;
}

export async function readEntry(ctx: StoreContext, found: CommittedVersion): Promise<StateEntry> {
  const serialized = await ctx.objects.read(found.record.checksum, found.record.fullKey);
  return toStateEntry(found.record, found.version, deserialize(serialized), ctx.options.defaultTTL);
}

export async function listVersions(ctx: StoreContext, logicalKey: string, own: StagedReads | null = null): Promise<VersionInfo[]> {
  assertLogicalKey(logicalKey);
  const versions = await listVisible(ctx, logicalKey, own);
  return versions.map(({ version, record }) => toVersionInfo(record, version)).reverse();
}

export function toVersionInfo(record: VersionRecord, version: number): VersionInfo {
  const info: VersionInfo = {
    version,
    timestamp: record.timestamp,
    key: record.fullKey,
    checksum: record.checksum,
    size: record.size,
    compressed: record.compressed,
    source: record.source,
    tags: record.tags,
  };
  if (record.phase !== undefined) info.phase = record.phase;
  if (record.git !== undefined) info.git = record.git;
  return info;
}

export function toStateEntry(record: VersionRecord, version: number, data: unknown, defaultTTL: number): StateEntry {
  const metadata: StateEntry['metadata'] = {
    size: record.size,
    created: record.created,
    accessed: new Date().toISOString(),
    source: record.source,
  };
  if (record.phase !== undefined) metadata.phase = record.phase;
  if (record.git !== undefined) metadata.git = record.git;
  return {
    id: record.entryId ?? record.fullKey,
    logicalKey: record.logicalKey,
    timestamp: record.timestamp,
    version,
    checksum: record.checksum,
    data,
    compressed: record.compressed,
    tags: record.tags,
    ttl: record.ttl ?? defaultTTL,
    metadata,
  };
}

export function notFound(logicalKey: string, version?: number): NotFoundError {
  return version === undefined
    ? new NotFoundError(`logical key ${JSON.stringify(logicalKey)}`, { key: logicalKey })
    : new NotFoundError(`version ${version} of ${JSON.stringify(logicalKey)}`, { key: logicalKey, version });
}

function checkSaveOptions(options: SaveOptions): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError('save options must be an object');
  }
  const { phase, tags, ttl, source } = options;
  if (phase !== undefined && (typeof phase !== 'string' || phase.length === 0 || phase.length > 200)) {
    throw new InvalidArgumentError('phase must be a non-empty string of at most 200 characters', { phase });
  }
  if (source !== undefined && (typeof source !== 'string' || source.length > 1000)) {
    throw new InvalidArgumentError('source must be a string of at most 1000 characters', { source });
  }
  if (ttl !== undefined && !(typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= 0)) {
    throw new InvalidArgumentError(`ttl must be a number of seconds >= 0, 0 for never (got ${String(ttl)})`, { ttl });
  }
  if (tags !== undefined) {
    if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) throw new InvalidArgumentError('tags must be an object of strings');
    for (const [name, value] of Object.entries(tags)) {
      if (typeof value !== 'string') throw new InvalidArgumentError(`tag ${JSON.stringify(name)} must be a string (got ${typeof value})`, { tag: name });
    }
  }
}
