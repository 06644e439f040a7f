/**
 * The statistics index kept under `local/stats/` (see docs/FORMAT.md): what
 * `getStatistics()` needs, summarised per key directory and per object fanout
 * directory, each summary tagged with the directory's mtime when it was read.
 * Pure shapes and arithmetic; src/manager/statistics-index.ts does the I/O.
 */

export const STATS_INDEX_FORMAT = 1;

/** One visible version: `[checksum, size, compressed ? 1 : 0, timestamp, bytes of its ref file]`. */
export type IndexedRef = [string, number, 0 | 1, string, number];

/** A key directory: its visible versions and the bytes of every regular file in it. */
export interface KeyDirSummary {
  /** The directory's mtime when read; -1 when it must be read again (see `isTrusted`). */
  mtimeMs: number;
  /** Names the sidecar file written with this summary. */
  gen: string;
  count: number;
  totalSize: number;
  compressed: number;
  oldest: string | null;
  newest: string | null;
  bytes: number;
}

/** An object fanout directory (`objects/<xx>`) and the versions naming its objects. */
export interface ShardSummary {
  mtimeMs: number;
  gen: string;
  objectCount: number;
  objectBytes: number;
  /** Serialised bytes of each distinct checksum of the shard that a visible version names. */
  distinctSize: number;
  /** Bytes on disk of those objects. */
  distinctStored: number;
}

export interface StatsIndexMain {
  format: number;
  keys: Record<string, KeyDirSummary>;
  shards: Record<string, ShardSummary>;
  commits: { mtimeMs: number; gen: string; bytes: number } | null;
  /**
   * `local/settled` as `<ino>:<mtimeMs>` when the index was read ('' without
   * it): settling rewrites refs in place, so the index is rebuilt when it changes.
   */
  settled: string;
}

/** `local/stats/keys/<dir>.json`: the refs a key summary was computed from, by file name. */
export interface KeySidecar {
  gen: string;
  refs: Record<string, IndexedRef>;
}

/** `local/stats/shards/<xx>.json`: object sizes by name, and how many visible versions name each checksum. */
export interface ShardSidecar {
  gen: string;
  objects: Record<string, number>;
  /** Checksum → `[versions naming it, serialised size]`. */
  refs: Record<string, [number, number]>;
}

/** `local/stats/commits.json`: commit file sizes by name. */
export interface CommitsSidecar {
  gen: string;
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

export function emptyStatsIndex(): StatsIndexMain {
  return { format: STATS_INDEX_FORMAT, keys: {}, shards: {}, commits: null, settled: '' };
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

export function summariseKey(refs: Record<string, IndexedRef>, bytes: number, mtimeMs: number, gen: string): KeyDirSummary {
  const summary: KeyDirSummary = { mtimeMs, gen, count: 0, totalSize: 0, compressed: 0, oldest: null, newest: null, bytes };
  for (const [, size, compressed, timestamp] of Object.values(refs)) {
    summary.count++;
    summary.totalSize += size;
    summary.compressed += compressed;
    if (summary.oldest === null || timestamp < summary.oldest) summary.oldest = timestamp;
    if (summary.newest === null || timestamp > summary.newest) summary.newest = timestamp;
  }
  return summary;
}

export function summariseShard(shard: ShardSidecar, mtimeMs: number): ShardSummary {
  const summary: ShardSummary = { mtimeMs, gen: shard.gen, objectCount: 0, objectBytes: 0, distinctSize: 0, distinctStored: 0 };
  for (const bytes of Object.values(shard.objects)) {
    summary.objectCount++;
    summary.objectBytes += bytes;
  }
  for (const [name, [count, size]] of Object.entries(shard.refs)) {
    if (count <= 0) continue;
    summary.distinctSize += size;
    summary.distinctStored += shard.objects[name] ?? 0;
  }
  return summary;
}

/** Adds `delta` versions naming `checksum` (of serialised `size`) to its shard's counts; drops counts that reach 0. */
export function countRef(shard: ShardSidecar, name: string, size: number, delta: number): void {
  const count = (shard.refs[name]?.[0] ?? 0) + delta;
  if (count > 0) shard.refs[name] = [count, size];
  else delete shard.refs[name];
}

/** Whether parsed JSON has the main file's shape (anything else is rebuilt, never trusted). */
export function isStatsIndexMain(value: unknown): value is StatsIndexMain {
  if (typeof value !== 'object' || value === null) return false;
  const main = value as Partial<StatsIndexMain>;
  return (
    main.format === STATS_INDEX_FORMAT &&
    typeof main.settled === 'string' &&
    isRecordOf(main.keys, (k) => isNumbers(k, ['mtimeMs', 'count', 'totalSize', 'compressed', 'bytes']) && typeof (k as KeyDirSummary).gen === 'string') &&
    isRecordOf(main.shards, (s) => isNumbers(s, ['mtimeMs', 'objectCount', 'objectBytes', 'distinctSize', 'distinctStored']) && typeof (s as ShardSummary).gen === 'string') &&
    (main.commits === null || (isNumbers(main.commits, ['mtimeMs', 'bytes']) && typeof main.commits?.gen === 'string'))
  );
}

export function isKeySidecar(value: unknown): value is KeySidecar {
  return (
    isGen(value) &&
    isRecordOf((value as KeySidecar).refs, (r) => Array.isArray(r) && r.length === 5 && typeof r[0] === 'string' && Number.isFinite(r[1]) && (r[2] === 0 || r[2] === 1) && typeof r[3] === 'string' && Number.isFinite(r[4]))
  );
}

export function isShardSidecar(value: unknown): value is ShardSidecar {
  const shard = value as ShardSidecar;
  return (
    isGen(value) &&
    isRecordOf(shard.objects, Number.isFinite) &&
    isRecordOf(shard.refs, (r) => Array.isArray(r) && r.length === 2 && Number.isFinite(r[0]) && Number.isFinite(r[1]))
  );
}

export function isCommitsSidecar(value: unknown): value is CommitsSidecar {
  return isGen(value) && isRecordOf((value as CommitsSidecar).files, Number.isFinite);
}

function isGen(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { gen?: unknown }).gen === 'string';
}

function isRecordOf(value: unknown, check: (item: unknown) => boolean): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every(check);
}

function isNumbers(value: unknown, names: string[]): boolean {
  return typeof value === 'object' && value !== null && names.every((n) => Number.isFinite((value as Record<string, unknown>)[n]));
}
