/**
 * One refresh of the statistics index (src/manager/statistics-index.ts): the
 * main file as it becomes, the sidecars it loads (only those of what
 * changed), and the files to write. Every file written carries the main
 * file's new `seq`; a sidecar with a higher one than the main file it is read
 * with was written by a refresh that has not finished (or never will), and
 * the index is read again or rebuilt.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  addObjectTotals,
  countRecentRef,
  countRef,
  emptyObjectTotals,
  foldRecentInto,
  hasSub,
  isCommitsSidecar,
  isKeyBucket,
  isKeySidecar,
  isSubShard,
  NO_SUBS,
  recentCount,
  recentIn,
  summariseBucket,
  summariseKey,
  summariseRecent,
  summariseSubShard,
  withSub,
  type IndexedRef,
  type KeyBucket,
  type KeyDirSummary,
  type ObjectTotals,
  type ShardSummary,
  type StatsIndexMain,
  type SubShard,
} from '../model/statistics-index.js';
import type { StoreFs } from '../store/fs.js';
import { nextVersionNumber } from '../store/version-index.js';

/** A sidecar missing, unparsable or newer than the main file: the index cannot be used as it is. */
export class StaleIndex extends Error {}

/**
 * How many checksums the main file's `recent` may hold. Its figures are read
 * with the main file at every refresh: a few hundred keep that under a
 * millisecond, and each saves the read of a sub-shard file, which in a large
 * store exists for nearly every checksum and is seldom in memory.
 */
export const RECENT_LIMIT = 512;
/** Past this many, `recent` is folded into the sub-shards after the refresh is written (`StatisticsIndex`). */
export const RECENT_FOLD_AT = 256;

interface LoadedSub {
  sub: SubShard;
  /** Its totals when loaded, taken off the fanout's summary when it is summarised again. */
  before: ObjectTotals;
}

export class IndexUpdate {
  readonly files = new Map<string, unknown>();
  private readonly buckets = new Map<string, KeyBucket>();
  private readonly keys = new Map<string, Record<string, IndexedRef>>();
  private readonly subs = new Map<string, LoadedSub>();
  private readonly touchedSubs = new Set<string>();
  /** Totals of `main.recent`'s part in each fanout whose part changes, as they were before (see `summariseShards`). */
  private readonly recentBefore = new Map<string, ObjectTotals>();
  /** Checksums the index holds nothing of, so their figures may start in `main.recent` (`claimNew`). */
  private readonly claimed = new Set<string>();
  /** Claimed checksums given a place in `main.recent`, and how many more may have one (counted once, when first needed). */
  private readonly admitted = new Set<string>();
  private room: number | undefined;
  diskBytes = 0;

  constructor(
    private readonly fs: StoreFs,
    private readonly directory: string,
    /** The main file as it becomes; its `seq` is the new one already. */
    readonly main: StatsIndexMain,
    private readonly baseSeq: number,
    /** Sidecars read ahead (asynchronously), by name. */
    private readonly preread: ReadonlyMap<string, Buffer> = new Map(),
  ) {}

  private readSidecar<T extends { seq: number }>(name: string, isShape: (value: unknown) => value is T): T {
    const bytes = this.preread.get(name);
    const parsed = bytes === undefined ? readJson(this.fs, join(this.directory, name)) : parseJson(bytes);
    if (!isShape(parsed) || parsed.seq > this.baseSeq) throw new StaleIndex(name);
    return parsed;
  }

  /**
   * Says the index holds nothing of `checksum`: no sub-shard file names it.
   * The caller knows it from the object's file, written as new after the
   * main file was (see `StatisticsIndex.claimNewObjects`). Its figures then
   * go to `main.recent` while there is room, and its sub-shard is not read.
   */
  claimNew(checksum: string): void {
    this.claimed.add(checksum);
  }

  /** Whether `main.recent` holds anything of a fanout (its summary is kept then, even with no sub-shard). */
  hasRecentIn(fanout: string): boolean {
    return recentIn(this.main.recent, fanout).length > 0;
  }

  /** Moves every figure of `main.recent` into its sub-shard (read ahead into `preread` by the caller). */
  foldRecent(): void {
    for (const checksum of recentIn(this.main.recent, '')) this.loadSub(checksum.slice(0, 4));
  }

  private write<T extends { seq: number }>(name: string, content: T): void {
    content.seq = this.main.seq;
    this.files.set(name, content);
  }

  bucket(id: string): KeyBucket {
    let bucket = this.buckets.get(id);
    if (bucket === undefined) {
      bucket = this.main.buckets[id] === undefined ? { seq: 0, keys: {} } : this.readSidecar(bucketFile(id), isKeyBucket);
      this.buckets.set(id, bucket);
    }
    return bucket;
  }

  keySummary(name: string): KeyDirSummary | undefined {
    return this.bucket(bucketOf(name)).keys[name];
  }

  /** Every key directory the index knows, with its summary (loads every bucket). */
  allKeys(): Array<[string, KeyDirSummary]> {
    return Object.keys(this.main.buckets).flatMap((id) => Object.entries(this.bucket(id).keys));
  }

  /** Every key directory the index knows (loads every bucket: for full checks only). */
  knownKeys(): string[] {
    return Object.keys(this.main.buckets).flatMap((id) => Object.keys(this.bucket(id).keys));
  }

  /** The refs the index holds for a key directory ({} for one it does not know). */
  keyRefs(name: string): Record<string, IndexedRef> {
    let refs = this.keys.get(name);
    if (refs === undefined) {
      refs = this.keySummary(name) === undefined ? {} : this.readSidecar(refsFile(name), isKeySidecar).refs;
      this.keys.set(name, refs);
    }
    return refs;
  }

  replaceKey(name: string, refs: Record<string, IndexedRef>, bytes: number, mtimeMs: number): void {
    // Only refs that came or went move counts: a save touches the sub-shard of its own checksum, not those of the key's history.
    const old = this.keyRefs(name);
    this.countRefs(Object.entries(old).filter(([file]) => refs[file] === undefined).map(([, ref]) => ref), -1);
    this.countRefs(Object.entries(refs).filter(([file]) => old[file] === undefined).map(([, ref]) => ref), 1);
    this.keys.set(name, refs);
    this.setKey(name, summariseKey(refs, bytes, mtimeMs, nextVersionNumber));
    this.write(refsFile(name), { seq: 0, refs });
  }

  /** Records a key directory's mtime without a change of its refs. */
  retimeKey(name: string, mtimeMs: number): void {
    const summary = this.keySummary(name);
    if (summary !== undefined && summary.mtimeMs !== mtimeMs) this.setKey(name, { ...summary, mtimeMs });
  }

  dropKey(name: string): void {
    this.countRefs(Object.values(this.keyRefs(name)), -1);
    this.keys.delete(name);
    const id = bucketOf(name);
    delete this.bucket(id).keys[name];
    this.summariseBucket(id);
  }

  private setKey(name: string, summary: KeyDirSummary): void {
    const id = bucketOf(name);
    this.bucket(id).keys[name] = summary;
    this.summariseBucket(id);
  }

  private summariseBucket(id: string): void {
    const bucket = this.bucket(id);
    if (Object.keys(bucket.keys).length === 0) delete this.main.buckets[id];
    else this.main.buckets[id] = summariseBucket(bucket);
    this.write(bucketFile(id), bucket);
  }

  private countRefs(refs: IndexedRef[], delta: number): void {
    for (const [checksum, size] of refs) {
      if (this.isRecent(checksum)) countRecentRef(this.recent(checksum), checksum, size, delta);
      else countRef(this.sub(checksum), checksum.slice(4), size, delta);
    }
  }

  /**
   * A sub-shard, loaded once per refresh; what `main.recent` holds of its
   * checksums moves into it then, so a checksum's figures are in one place.
   */
  private loadSub(id: string): LoadedSub {
    let loaded = this.subs.get(id);
    if (loaded === undefined) {
      const summary = this.main.shards[id.slice(0, 2)];
      const isPresent = summary !== undefined && hasSub(summary.subs, parseInt(id.slice(2), 16));
      const sub = isPresent ? this.readSidecar(subFile(id), isSubShard) : { seq: 0, objects: {}, refs: {} };
      loaded = { sub, before: summariseSubShard(sub) };
      this.subs.set(id, loaded);
      const moving = recentIn(this.main.recent, id);
      if (moving.length > 0) {
        this.touchRecent(id.slice(0, 2));
        for (const checksum of moving) foldRecentInto(this.main.recent, checksum, sub, checksum.slice(4));
        this.touchedSubs.add(id);
      }
    }
    return loaded;
  }

  /** Whether a checksum's figures are kept in `main.recent`: there already, or claimed new with room left; never once its sub-shard is loaded. */
  private isRecent(checksum: string): boolean {
    if (this.subs.has(checksum.slice(0, 4))) return false;
    const { recent } = this.main;
    if (this.admitted.has(checksum) || recent.objects[checksum] !== undefined || recent.refs[checksum] !== undefined) return true;
    if (!this.claimed.has(checksum)) return false;
    this.room ??= RECENT_LIMIT - recentCount(recent);
    if (this.room <= 0) return false;
    this.room--;
    this.admitted.add(checksum);
    return true;
  }

  /** `main.recent`, to change a checksum's figures in it. */
  private recent(checksum: string): StatsIndexMain['recent'] {
    this.touchRecent(checksum.slice(0, 2));
    return this.main.recent;
  }

  private touchRecent(fanout: string): void {
    if (!this.recentBefore.has(fanout)) this.recentBefore.set(fanout, summariseRecent(this.main.recent, fanout));
  }

  /** The sub-shard of a checksum (64 hex), marked to be written. */
  private sub(checksum: string): SubShard {
    const id = checksum.slice(0, 4);
    this.touchedSubs.add(id);
    return this.loadSub(id).sub;
  }

  /** Bytes on disk of an object as the index knows it; undefined for one it does not know. */
  objectBytes(checksum: string): number | undefined {
    if (this.isRecent(checksum)) return this.main.recent.objects[checksum];
    return this.loadSub(checksum.slice(0, 4)).sub.objects[checksum.slice(4)];
  }

  setObject(checksum: string, bytes: number | undefined): void {
    const [holder, name] = this.isRecent(checksum) ? [this.recent(checksum), checksum] : [this.sub(checksum), checksum.slice(4)];
    if (bytes === undefined) delete holder.objects[name];
    else holder.objects[name] = bytes;
  }

  /** Every object of a fanout the index knows, as checksums (loads its sub-shards: for a fanout read again whole). */
  knownObjects(fanout: string): string[] {
    const subs = this.main.shards[fanout]?.subs ?? NO_SUBS;
    const names: string[] = [];
    for (let n = 0; n < 256; n++) {
      const id = fanout + n.toString(16).padStart(2, '0');
      if (!hasSub(subs, n) && !this.subs.has(id)) continue;
      for (const rest of Object.keys(this.loadSub(id).sub.objects)) names.push(id + rest);
    }
    // Left in `recent`: objects of sub-shards that have no file.
    for (const checksum of recentIn(this.main.recent, fanout)) if (this.main.recent.objects[checksum] !== undefined) names.push(checksum);
    return names;
  }

  /** Commit file sizes by name, as the index knows them. */
  commitFiles(): Record<string, number> {
    return this.main.commits === null ? {} : this.readSidecar('commits.json', isCommitsSidecar).files;
  }

  setCommits(files: Record<string, number>, mtimeMs: number): void {
    const bytes = Object.values(files).reduce((sum, size) => sum + size, 0);
    this.main.commits = { mtimeMs, bytes };
    this.write('commits.json', { seq: 0, files });
  }

  setShardMtime(fanout: string, mtimeMs: number): void {
    this.main.shards[fanout] = { ...(this.main.shards[fanout] ?? { ...emptyObjectTotals(), subs: NO_SUBS }), mtimeMs };
  }

  /** Folds the sub-shards changed into their fanouts' summaries, and schedules their files. */
  summariseShards(): void {
    for (const id of this.touchedSubs) {
      const loaded = this.subs.get(id)!;
      const fanout = id.slice(0, 2);
      const shard: ShardSummary = this.main.shards[fanout] ?? { mtimeMs: -1, ...emptyObjectTotals(), subs: NO_SUBS };
      const after = summariseSubShard(loaded.sub);
      addObjectTotals(shard, loaded.before, -1);
      addObjectTotals(shard, after, 1);
      loaded.before = after;
      const isEmpty = Object.keys(loaded.sub.objects).length === 0 && Object.keys(loaded.sub.refs).length === 0;
      shard.subs = withSub(shard.subs, parseInt(id.slice(2), 16), !isEmpty);
      if (!isEmpty) this.write(subFile(id), loaded.sub);
      this.main.shards[fanout] = shard;
    }
    this.touchedSubs.clear();
    for (const [fanout, before] of this.recentBefore) {
      const shard: ShardSummary = this.main.shards[fanout] ?? { mtimeMs: -1, ...emptyObjectTotals(), subs: NO_SUBS };
      addObjectTotals(shard, before, -1);
      addObjectTotals(shard, summariseRecent(this.main.recent, fanout), 1);
      this.main.shards[fanout] = shard;
    }
    this.recentBefore.clear();
  }
}

function hashHex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Key directory names may be as long as a file name may be: their files are named by a hash of them. */
export function bucketOf(dirName: string): string {
  return hashHex(dirName).slice(0, 2);
}

function bucketFile(id: string): string {
  return join('keys', `${id}.json`);
}

function refsFile(dirName: string): string {
  return join('refs', `${hashHex(dirName).slice(0, 32)}.json`);
}

export function readJson(fs: StoreFs, path: string): unknown {
  try {
    return parseJson(fs.readFileSync(path));
  } catch {
    return undefined;
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The file of a sub-shard (4 hex), under the index's directory. */
export function subFile(id: string): string {
  return join('shards', id.slice(0, 2), `${id.slice(2)}.json`);
}
