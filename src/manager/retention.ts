/**
 * Garbage collection: removes versions whose time to live has passed, then
 * the objects nothing references any more, then debris of killed writers.
 *
 * Everything runs under the store's write lock, so no commit of any process
 * interleaves with it. Objects are marked from every version record, every
 * snapshot tag (its tree object and the tree's entries) and every open
 * transaction's staging file; commits are not marks, so the history never
 * pins the data of a removed version (a commit keeps the record that the
 * version existed, not its data). Unmarked objects are swept only when
 * their file has not been touched for the grace period, because another
 * process may have written one for a save that has not taken the lock yet
 * (writers refresh the mtime of objects that already exist for this reason).
 * Packs are collected, or repacked, by the same marks (retention-packs.ts).
 */
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_GRACE_SECONDS, isPastGrace, selectExpired } from '../model/retention.js';
import { syncDirs } from '../store/atomic-write.js';
import { statFast, unlinkIfExists } from '../store/bulk-io.js';
import { settleVersionNumbers } from '../store/settle-numbers.js';
import { readdirIfExists } from '../store/fs.js';
import { forEachLimit, WALK_CONCURRENCY } from '../store/map-limit.js';
import { listFanout, listFanouts } from '../store/object-scan.js';
import { removeDeadWriterDebris } from '../store/debris.js';
import { listKeyDirPaths, scanKeyDir, type ScannedRef } from '../store/ref-scan.js';
import { readPendingCommits, readStagingPins, type PendingCommits } from '../store/staging.js';
import { TagStore } from '../store/tags.js';
import type { StoreContext } from './context.js';
import { saveGcRecord } from './maintenance-records.js';
import { sweepPacks } from './retention-packs.js';

export interface GarbageCollectionOptions {
  /**
   * `'now'` skips the grace period (as `git gc --prune=now`): use it only when
   * no other process is writing to the store. A number is the grace period in
   * seconds. Default 300.
   */
  prune?: 'now' | number;
}

export interface GarbageCollectionResult {
  /** Versions removed because their time to live had passed. */
  expiredCount: number;
  expiredKeys: string[];
  /** Expired versions kept because a snapshot names them. */
  keptBySnapshot: number;
  /** Versions past the default TTL kept because they are their key's newest. */
  keptAsNewest: number;
  removedObjects: number;
  /** Bytes of the object files removed. */
  freedBytes: number;
  /** Refs of commits that were never published (debris of killed writers). */
  removedUnpublishedRefs: number;
  removedStagingFiles: number;
  removedTempFiles: number;
  graceSeconds: number;
  durationMs: number;
}

interface Pins {
  fullKeys: Set<string>;
  marked: Set<string>;
}

/** Runs one garbage collection under the write lock and emits `garbageCollectionCompleted`. */
export async function runGarbageCollection(ctx: StoreContext, options: GarbageCollectionOptions = {}): Promise<GarbageCollectionResult> {
  const graceSeconds = resolveGrace(options);
  const started = Date.now();
  const result = await ctx.withWriteLock(async () => {
    const tally = emptyResult(graceSeconds);
    // Read before readPins removes dead writers' staging files, publish records among them.
    const pending = await readPendingCommits(ctx.fs, ctx.layout);
    const pins = await readPins(ctx, tally);
    const debrisLeft = await collectVersions(ctx, pins, pending, tally);
    for (const [commit, path] of pending.abandonedRecords) {
      if (!debrisLeft.has(commit) && (await unlinkIfExists(ctx.fs, path))) tally.removedStagingFiles++;
    }
    await sweepObjects(ctx, pins.marked, tally);
    const packs = await sweepPacks(ctx, pins.marked, tally.graceSeconds);
    tally.removedObjects += packs.removedObjects;
    tally.freedBytes += packs.freedBytes;
    tally.removedTempFiles = await removeDeadWriterDebris(ctx.fs, ctx.layout);
    tally.durationMs = Date.now() - started;
    // Written before the lock is released: a watcher that sees the release reads the new record.
    await saveGcRecord(ctx, tally);
    return tally;
  });
  ctx.events.emit('garbageCollectionCompleted', result);
  return result;
}

function resolveGrace(options: GarbageCollectionOptions): number {
  const prune = options?.prune;
  if (prune === undefined) return DEFAULT_GRACE_SECONDS;
  if (prune === 'now') return 0;
  if (typeof prune === 'number' && Number.isFinite(prune) && prune >= 0) return prune;
  throw new InvalidArgumentError(`prune must be "now" or a number of seconds >= 0 (got ${String(prune)})`, { prune });
}

function emptyResult(graceSeconds: number): GarbageCollectionResult {
  return {
    expiredCount: 0,
    expiredKeys: [],
    keptBySnapshot: 0,
    keptAsNewest: 0,
    removedObjects: 0,
    freedBytes: 0,
    removedUnpublishedRefs: 0,
    removedStagingFiles: 0,
    removedTempFiles: 0,
    graceSeconds,
    durationMs: 0,
  };
}

/**
 * Marks what snapshots and open transactions hold. A tag whose tree cannot be
 * read stops the collection (the error says which): without the tree, GC
 * cannot know which versions the snapshot keeps. `fsck --repair` clears it.
 */
async function readPins(ctx: StoreContext, tally: GarbageCollectionResult): Promise<Pins> {
  const pins: Pins = { fullKeys: new Set(), marked: new Set() };
  const tags = new TagStore(ctx.fs, ctx.layout, ctx.objects);
  for (const tag of await tags.list()) {
    pins.marked.add(tag.tree);
    for (const entry of (await tags.readTree(tag)).entries) {
      pins.fullKeys.add(entry.fullKey);
      pins.marked.add(entry.checksum);
    }
  }
  const staging = await readStagingPins(ctx.fs, ctx.layout);
  for (const checksum of staging.checksums) pins.marked.add(checksum);
  for (const path of staging.deadFiles) {
    if (await unlinkIfExists(ctx.fs, path)) tally.removedStagingFiles++;
  }
  return pins;
}

/** Removes expired versions and old refs of abandoned commits, one key directory at a time, and marks the rest. */
/** Answers the abandoned commits whose refs are still there (within the grace period). */
async function collectVersions(ctx: StoreContext, pins: Pins, pending: PendingCommits, tally: GarbageCollectionResult): Promise<Set<string>> {
  const debrisLeft = new Set<string>();
  const nowMs = ctx.clock();
  const wallMs = Date.now();
  // One listing of the log instead of a stat per commit: we hold the lock, so
  // no commit is published while we look.
  const commits = new Set(await ctx.commits.list());
  await forEachLimit(await listKeyDirPaths(ctx.fs, ctx.layout), WALK_CONCURRENCY / 4, async (dir) => {
    const scan = await scanKeyDir(ctx.fs, dir);
    let touched = false;
    const published: Array<{ record: ScannedRef['record']; path: string }> = [];
    for (const ref of scan.refs) {
      if (commits.has(ref.record.commit)) {
        published.push(ref);
      } else if (pending.abandoned.has(ref.record.commit) && (await isOldEnough(ctx, ref.path, wallMs, tally.graceSeconds))) {
        // A dead writer's publish record names its commit: provably debris.
        // Any other ref without its commit is kept (fsck reports it).
        if (await unlinkIfExists(ctx.fs, ref.path)) tally.removedUnpublishedRefs++;
        touched = true;
      } else {
        pins.marked.add(ref.record.checksum);
        debrisLeft.add(ref.record.commit);
      }
    }
    const decision = selectExpired(published, nowMs, ctx.options.defaultTTL, pins.fullKeys);
    tally.keptBySnapshot += decision.keptBySnapshot.length;
    tally.keptAsNewest += decision.keptAsNewest.length;
    const expired = new Set(decision.expired);
    for (const version of published) {
      if (!expired.has(version)) pins.marked.add(version.record.checksum);
    }
    if (decision.expired.length > 0) {
      // Numbers settled and durable before any ref goes, so removing these cannot move the others' (version-index.ts).
      const { dirs, settled } = await settleVersionNumbers(ctx.refs, published);
      for (const ref of settled) ctx.index.remember(ref.path, ref.record);
      if (dirs.length > 0) await syncDirs(ctx.fs, dirs);
    }
    await Promise.all(decision.expired.map((version) => unlinkIfExists(ctx.fs, version.path)));
    for (const version of decision.expired) {
      ctx.index.forget(version.path);
      tally.expiredCount++;
      tally.expiredKeys.push(version.record.fullKey);
      touched = true;
    }
    // Removals are made durable before the objects they named are swept, so a
    // crash can never leave a ref whose object is gone. Each directory is
    // synced as soon as it is done, overlapping the scan of the others.
    if (touched) await syncDirs(ctx.fs, [dir]);
  });
  return debrisLeft;
}

/** Deletes unmarked objects past the grace period; the disk space is returned at once. */
async function sweepObjects(ctx: StoreContext, marked: ReadonlySet<string>, tally: GarbageCollectionResult): Promise<void> {
  const wallMs = Date.now();
  const { fanouts } = await listFanouts(ctx.fs, ctx.layout);
  const touchedDirs = new Set<string>();
  await forEachLimit(fanouts, 4, async (fanout) => {
    const listing = await listFanout(ctx.fs, ctx.layout, fanout);
    const candidates = listing.objects.filter((object) => !marked.has(object.checksum));
    await forEachLimit(candidates, WALK_CONCURRENCY / 4, async ({ path }) => {
      const stat = await statFast(ctx.fs, path);
      if (stat === null || !isPastGrace(stat.mtimeMs, wallMs, tally.graceSeconds)) return;
      if (await unlinkIfExists(ctx.fs, path)) {
        tally.removedObjects++;
        tally.freedBytes += stat.size;
        touchedDirs.add(listing.dir);
      }
    });
  });
  await syncDirs(ctx.fs, touchedDirs);
}

async function isOldEnough(ctx: StoreContext, path: string, wallMs: number, graceSeconds: number): Promise<boolean> {
  if (graceSeconds === 0) return true;
  const stat = await ctx.fs.stat(path).catch(() => null);
  return stat !== null && isPastGrace(stat.mtimeMs, wallMs, graceSeconds);
}
