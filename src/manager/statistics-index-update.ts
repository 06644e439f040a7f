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
  countRef,
  emptyObjectTotals,
  hasSub,
  isCommitsSidecar,
  isKeyBucket,
  isKeySidecar,
  isSubShard,
  NO_SUBS,
  summariseBucket,
  summariseKey,
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
  diskBytes = 0;

  constructor(
    private readonly fs: StoreFs,
    private readonly directory: string,
    /** The main file as it becomes; its `seq` is the new one already. */
    readonly main: StatsIndexMain,
    private readonly baseSeq: number,
  ) {}

  private readSidecar<T extends { seq: number }>(name: string, isShape: (value: unknown) => value is T): T {
    const parsed = readJson(this.fs, join(this.directory, name));
    if (!isShape(parsed) || parsed.seq > this.baseSeq) throw new StaleIndex(name);
    return parsed;
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
    for (const [checksum, size] of refs) countRef(this.sub(checksum), checksum.slice(4), size, delta);
  }

  private loadSub(id: string): LoadedSub {
    let loaded = this.subs.get(id);
    if (loaded === undefined) {
      const summary = this.main.shards[id.slice(0, 2)];
      const isPresent = summary !== undefined && hasSub(summary.subs, parseInt(id.slice(2), 16));
      const sub = isPresent ? this.readSidecar(subFile(id), isSubShard) : { seq: 0, objects: {}, refs: {} };
      loaded = { sub, before: summariseSubShard(sub) };
      this.subs.set(id, loaded);
    }
    return loaded;
  }

  /** The sub-shard of a checksum (64 hex), marked to be written. */
  private sub(checksum: string): SubShard {
    const id = checksum.slice(0, 4);
    this.touchedSubs.add(id);
    return this.loadSub(id).sub;
  }

  /** Bytes on disk of an object as the index knows it; undefined for one it does not know. */
  objectBytes(checksum: string): number | undefined {
    return this.loadSub(checksum.slice(0, 4)).sub.objects[checksum.slice(4)];
  }

  setObject(checksum: string, bytes: number | undefined): void {
    const sub = this.sub(checksum);
    if (bytes === undefined) delete sub.objects[checksum.slice(4)];
    else sub.objects[checksum.slice(4)] = bytes;
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

function subFile(id: string): string {
  return join('shards', id.slice(0, 2), `${id.slice(2)}.json`);
}

export function readJson(fs: StoreFs, path: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path).toString('utf8'));
  } catch {
    return undefined;
  }
}
