/**
 * The statistics index kept under `local/stats/` (see docs/FORMAT.md): what
 * `getStatistics()` needs, summarised so that one save rewrites a few small
 * files: key directories grouped in 256 buckets, object fanouts split into
 * sub-shards of 256, totals per bucket and per fanout in the main file.
 * Pure shapes and arithmetic; src/manager/statistics-index.ts does the I/O.
 */

export const STATS_INDEX_FORMAT = 4;

/** One visible version: `[checksum, size, compressed ? 1 : 0, timestamp, bytes of its ref file, stored version, reservedThrough (0: none)]`. */
export type IndexedRef = [string, number, 0 | 1, string, number, number, number];

/** Totals over a set of visible versions (a key directory, a bucket of them). */
export interface VersionTotals {
  count: number;
  totalSize: number;
  compressed: number;
  oldest: string | null;
  newest: string | null;
  /** Bytes of every regular file of the directories summed. */
  bytes: number;
}

/** A key directory: its visible versions and the bytes of every regular file in it. */
export interface KeyDirSummary extends VersionTotals {
  /** The directory's mtime when read; -1 when a full check must read it again (see `isTrusted`). */
  mtimeMs: number;
  /** The newest visible version: its ref file name and the number readers give it; null without one. */
  latest: [string, number] | null;
}

/** A bucket of key directories (by the first 2 hex of sha256 of the name): their totals, and how many have a visible version. */
export interface BucketSummary extends VersionTotals {
  keys: number;
}

/** The figures of objects and of the distinct checksums visible versions name, summed over a sub-shard or a fanout. */
export interface ObjectTotals {
  objectCount: number;
  objectBytes: number;
  /** Serialised bytes of each distinct checksum that a visible version names. */
  distinctSize: number;
  /** Bytes on disk of those objects. */
  distinctStored: number;
}

/** An object fanout directory (`objects/<xx>`). */
export interface ShardSummary extends ObjectTotals {
  mtimeMs: number;
  /** 64 hex: bit n (of byte n >> 3, from the low bit) is set when sub-shard `n` (2 hex) has a file. */
  subs: string;
}

/**
 * Figures of objects kept in the main file instead of their sub-shards, by
 * whole checksum (64 hex): those of new loose objects, whose sub-shard files
 * hold nothing for them, so a refresh need not read those files. Counts of
 * versions may be negative here (never 0): they add to a sub-shard's when
 * folded into it.
 */
export interface RecentObjects {
  objects: Record<string, number>;
  refs: Record<string, [number, number]>;
}

/** What the index last saw of the changes that are not summarised directory by directory. */
export interface WatchState {
  /** The machine's boot (the change log is not made durable: a crash of the machine may lose lines). */
  boot: string;
  /** `<mtimeMs>:<size>:<ino>` of the project's git index and HEAD, '' without git. */
  git: string;
  commitsMtimeMs: number;
  keyRefsMtimeMs: number;
  /** Where the next unread line of the change log starts. */
  log: { ino: number; offset: number };
}

export interface StatsIndexMain {
  format: number;
  /** Raised by every write of the index; no file of it may carry a higher one. */
  seq: number;
  /** `local/settled` as `<ino>:<mtimeMs>` when read ('' without it): settling rewrites refs in place, so the index is rebuilt when it changes. */
  settled: string;
  watch: WatchState | null;
  buckets: Record<string, BucketSummary>;
  shards: Record<string, ShardSummary>;
  /** `isAtLog`: `bytes` are exactly the files of the sessions up to `watch.log` (no writer at work while they were listed), so named commits may be added. */
  commits: { mtimeMs: number; bytes: number; isAtLog?: boolean } | null;
  /** Bytes of the regular files directly in `refs/keys/` (none in a sound store). */
  strayKeyRefBytes: number;
  /**
   * `objects/pack/` as last read (null without it): its mtime, the bytes of
   * its files beyond every packed object's stored bytes (headers, indexes),
   * and the packed objects that also exist loose, by checksum, with their
   * stored bytes in the packs. The shards count such an object by its loose
   * file, as a full read does, so its packed copy is on disk besides.
   */
  packs: { mtimeMs: number; overheadBytes: number; doubled: Record<string, number> } | null;
  /** Counted in the fanouts' totals, in no sub-shard file (see `RecentObjects`). */
  recent: RecentObjects;
}

/** `local/stats/keys/<2 hex>.json`: the key directories of a bucket. */
export interface KeyBucket {
  seq: number;
  keys: Record<string, KeyDirSummary>;
}

/** `local/stats/refs/<32 hex>.json`: the refs a key summary was computed from, by file name. */
export interface KeySidecar {
  seq: number;
  refs: Record<string, IndexedRef>;
}

/** `local/stats/shards/<xx>/<yy>.json`: object sizes by the name's last 60 hex, and how many visible versions name each checksum. */
export interface SubShard {
  seq: number;
  objects: Record<string, number>;
  /** Checksum's last 60 hex → `[versions naming it, serialised size]`. */
  refs: Record<string, [number, number]>;
}

/** `local/stats/commits.json`: commit file sizes by name. */
export interface CommitsSidecar {
  seq: number;
  files: Record<string, number>;
}

/**
 * How long after a directory changed its mtime is not trusted: a change in
 * the same clock tick as the read would leave the mtime as recorded (file
 * systems keep mtimes as coarse as 1 or 2 s), so such a directory is read
 * again next time rather than summarised as it was. An mtime with a part
 * below the second comes from a file system with finer times (ext4, XFS,
 * btrfs, APFS, NTFS: a clock tick of at most 10 ms), which gets the short
 * window; a whole second gets the long one.
 */
export const RACY_MS = 2_000;
export const FINE_RACY_MS = 100;

export const NO_SUBS = '0'.repeat(64);

export function emptyStatsIndex(): StatsIndexMain {
  return { format: STATS_INDEX_FORMAT, seq: 0, settled: '', watch: null, buckets: {}, shards: {}, commits: null, strayKeyRefBytes: 0, packs: null, recent: emptyRecent() };
}

export function emptyRecent(): RecentObjects {
  return { objects: {}, refs: {} };
}

/** How many checksums `recent` holds figures of. */
export function recentCount(recent: RecentObjects): number {
  let count = Object.keys(recent.objects).length;
  for (const checksum of Object.keys(recent.refs)) if (recent.objects[checksum] === undefined) count++;
  return count;
}

/** The checksums of `recent` that start with `prefix` (a fanout or a sub-shard id). */
export function recentIn(recent: RecentObjects, prefix: string): string[] {
  const found = new Set<string>();
  for (const checksum of Object.keys(recent.objects)) if (checksum.startsWith(prefix)) found.add(checksum);
  for (const checksum of Object.keys(recent.refs)) if (checksum.startsWith(prefix)) found.add(checksum);
  return [...found];
}

/** The totals of the part of `recent` in a fanout, counted as a sub-shard's are. */
export function summariseRecent(recent: RecentObjects, fanout: string): ObjectTotals {
  const part: SubShard = { seq: 0, objects: {}, refs: {} };
  for (const checksum of recentIn(recent, fanout)) {
    if (recent.objects[checksum] !== undefined) part.objects[checksum] = recent.objects[checksum];
    if (recent.refs[checksum] !== undefined) part.refs[checksum] = recent.refs[checksum];
  }
  return summariseSubShard(part);
}

/** Moves what `recent` holds of a checksum into its sub-shard (`name`: the checksum's last 60 hex); counts add. */
export function foldRecentInto(recent: RecentObjects, checksum: string, sub: SubShard, name: string): void {
  const bytes = recent.objects[checksum];
  if (bytes !== undefined) sub.objects[name] = bytes;
  const refs = recent.refs[checksum];
  if (refs !== undefined) {
    const count = (sub.refs[name]?.[0] ?? 0) + refs[0];
    if (count > 0) sub.refs[name] = [count, refs[1]];
    else delete sub.refs[name];
  }
  delete recent.objects[checksum];
  delete recent.refs[checksum];
}

/** Adds `delta` versions naming `checksum` to `recent`'s count, which may go below 0 and is dropped at 0. */
export function countRecentRef(recent: RecentObjects, checksum: string, size: number, delta: number): void {
  const count = (recent.refs[checksum]?.[0] ?? 0) + delta;
  if (count !== 0) recent.refs[checksum] = [count, size];
  else delete recent.refs[checksum];
}

/** A summary whose recorded mtime still matches the directory and was not racy when read. */
export function isTrusted(recordedMtimeMs: number | undefined, currentMtimeMs: number): boolean {
  return recordedMtimeMs !== undefined && recordedMtimeMs !== -1 && recordedMtimeMs === currentMtimeMs;
}

/** The mtime to record for a directory read at `readAtMs`: -1 when it changed too recently to trust. */
export function recordedMtime(mtimeMs: number, readAtMs: number, isComplete: boolean): number {
  const window = mtimeMs % 1000 === 0 ? RACY_MS : FINE_RACY_MS;
  return isComplete && mtimeMs < readAtMs - window ? mtimeMs : -1;
}

export function emptyTotals(): VersionTotals {
  return { count: 0, totalSize: 0, compressed: 0, oldest: null, newest: null, bytes: 0 };
}

export function emptyObjectTotals(): ObjectTotals {
  return { objectCount: 0, objectBytes: 0, distinctSize: 0, distinctStored: 0 };
}

/** Adds `part` into `into` (oldest and newest widened). */
export function addTotals(into: VersionTotals, part: VersionTotals): void {
  into.count += part.count;
  into.totalSize += part.totalSize;
  into.compressed += part.compressed;
  into.bytes += part.bytes;
  if (part.oldest !== null && (into.oldest === null || part.oldest < into.oldest)) into.oldest = part.oldest;
  if (part.newest !== null && (into.newest === null || part.newest > into.newest)) into.newest = part.newest;
}

/**
 * A key directory's summary. `nextNumber` is the store's numbering rule
 * (store/version-index.ts), applied in ref file name order as readers do.
 */
export function summariseKey(refs: Record<string, IndexedRef>, bytes: number, mtimeMs: number, nextNumber: (lastTaken: number, stored: number) => number): KeyDirSummary {
  const summary: KeyDirSummary = { mtimeMs, ...emptyTotals(), bytes, latest: null };
  let lastTaken = 0;
  for (const name of Object.keys(refs).sort()) {
    const [, , , , , stored, reservedThrough] = refs[name]!;
    const version = nextNumber(lastTaken, stored);
    lastTaken = Math.max(version, reservedThrough);
    summary.latest = [name, version];
  }
  for (const [, size, compressed, timestamp] of Object.values(refs)) {
    summary.count++;
    summary.totalSize += size;
    summary.compressed += compressed;
    if (summary.oldest === null || timestamp < summary.oldest) summary.oldest = timestamp;
    if (summary.newest === null || timestamp > summary.newest) summary.newest = timestamp;
  }
  return summary;
}

export function summariseBucket(bucket: KeyBucket): BucketSummary {
  const summary: BucketSummary = { keys: 0, ...emptyTotals() };
  for (const key of Object.values(bucket.keys)) {
    addTotals(summary, key);
    if (key.count > 0) summary.keys++;
  }
  return summary;
}

export function summariseSubShard(sub: SubShard): ObjectTotals {
  const summary = emptyObjectTotals();
  for (const bytes of Object.values(sub.objects)) {
    summary.objectCount++;
    summary.objectBytes += bytes;
  }
  for (const [name, [count, size]] of Object.entries(sub.refs)) {
    if (count <= 0) continue;
    summary.distinctSize += size;
    summary.distinctStored += sub.objects[name] ?? 0;
  }
  return summary;
}

/** `into` moved by `sign` times `part`. */
export function addObjectTotals(into: ObjectTotals, part: ObjectTotals, sign: 1 | -1): void {
  into.objectCount += sign * part.objectCount;
  into.objectBytes += sign * part.objectBytes;
  into.distinctSize += sign * part.distinctSize;
  into.distinctStored += sign * part.distinctStored;
}

export function hasSub(subs: string, sub: number): boolean {
  return (parseInt(subs.slice((sub >> 3) * 2, (sub >> 3) * 2 + 2), 16) & (1 << (sub & 7))) !== 0;
}

export function withSub(subs: string, sub: number, isPresent: boolean): string {
  const at = (sub >> 3) * 2;
  const byte = parseInt(subs.slice(at, at + 2), 16);
  const next = isPresent ? byte | (1 << (sub & 7)) : byte & ~(1 << (sub & 7));
  return subs.slice(0, at) + next.toString(16).padStart(2, '0') + subs.slice(at + 2);
}

/** Adds `delta` versions naming `name` (of serialised `size`) to its sub-shard's counts; drops counts that reach 0. */
export function countRef(sub: SubShard, name: string, size: number, delta: number): void {
  const count = (sub.refs[name]?.[0] ?? 0) + delta;
  if (count > 0) sub.refs[name] = [count, size];
  else delete sub.refs[name];
}

const TOTALS = ['count', 'totalSize', 'compressed', 'bytes'];
const OBJECT_TOTALS = ['objectCount', 'objectBytes', 'distinctSize', 'distinctStored'];

/** Whether parsed JSON has the main file's shape (anything else is rebuilt, never trusted). */
export function isStatsIndexMain(value: unknown): value is StatsIndexMain {
  if (typeof value !== 'object' || value === null) return false;
  const main = value as Partial<StatsIndexMain>;
  return (
    main.format === STATS_INDEX_FORMAT &&
    Number.isSafeInteger(main.seq) &&
    typeof main.settled === 'string' &&
    Number.isFinite(main.strayKeyRefBytes) &&
    (main.watch === null || isWatch(main.watch)) &&
    isRecordOf(main.buckets, (b) => isNumbers(b, ['keys', ...TOTALS]) && isSpan(b)) &&
    isRecordOf(main.shards, (s) => isNumbers(s, ['mtimeMs', ...OBJECT_TOTALS]) && /^[0-9a-f]{64}$/.test(String((s as ShardSummary).subs))) &&
    (main.commits === null || (isNumbers(main.commits, ['mtimeMs', 'bytes']) && [undefined, true, false].includes(main.commits?.isAtLog))) &&
    (main.packs === null || isPacks(main.packs)) &&
    isRecent(main.recent)
  );
}

const isChecksum = (name: string) => /^[0-9a-f]{64}$/.test(name);

function isPacks(value: unknown): boolean {
  const { doubled } = value as NonNullable<StatsIndexMain['packs']>;
  return isNumbers(value, ['mtimeMs', 'overheadBytes']) && isRecordOf(doubled, Number.isSafeInteger) && Object.keys(doubled).every(isChecksum);
}

function isRecent(value: unknown): boolean {
  const recent = value as RecentObjects;
  return (
    isRecordOf(recent?.objects, Number.isFinite) &&
    isRecordOf(recent.refs, (r) => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && r[0] !== 0 && Number.isFinite(r[1])) &&
    Object.keys(recent.objects).every(isChecksum) &&
    Object.keys(recent.refs).every(isChecksum)
  );
}

function isWatch(value: unknown): boolean {
  const watch = value as WatchState;
  return (
    isNumbers(value, ['commitsMtimeMs', 'keyRefsMtimeMs']) &&
    typeof watch.boot === 'string' &&
    typeof watch.git === 'string' &&
    isNumbers(watch.log, ['ino', 'offset'])
  );
}

export function isKeyBucket(value: unknown): value is KeyBucket {
  return isSeq(value) && isRecordOf((value as KeyBucket).keys, (k) => isNumbers(k, ['mtimeMs', ...TOTALS]) && isSpan(k) && isLatest((k as KeyDirSummary).latest));
}

export function isKeySidecar(value: unknown): value is KeySidecar {
  return (
    isSeq(value) &&
    isRecordOf(
      (value as KeySidecar).refs,
      (r) => Array.isArray(r) && r.length === 7 && typeof r[0] === 'string' && Number.isFinite(r[1]) && (r[2] === 0 || r[2] === 1) && typeof r[3] === 'string' && [r[4], r[5], r[6]].every(Number.isSafeInteger),
    )
  );
}

export function isSubShard(value: unknown): value is SubShard {
  const sub = value as SubShard;
  return isSeq(value) && isRecordOf(sub.objects, Number.isFinite) && isRecordOf(sub.refs, (r) => Array.isArray(r) && r.length === 2 && Number.isFinite(r[0]) && Number.isFinite(r[1]));
}

export function isCommitsSidecar(value: unknown): value is CommitsSidecar {
  return isSeq(value) && isRecordOf((value as CommitsSidecar).files, Number.isFinite);
}

function isLatest(value: unknown): boolean {
  return value === null || (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isSafeInteger(value[1]));
}

function isSpan(value: unknown): boolean {
  const { oldest, newest } = value as VersionTotals;
  return (oldest === null || typeof oldest === 'string') && (newest === null || typeof newest === 'string');
}

function isSeq(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Number.isSafeInteger((value as { seq?: unknown }).seq);
}

function isRecordOf(value: unknown, check: (item: unknown) => boolean): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every(check);
}

function isNumbers(value: unknown, names: string[]): boolean {
  return typeof value === 'object' && value !== null && names.every((n) => Number.isFinite((value as Record<string, unknown>)[n]));
}
