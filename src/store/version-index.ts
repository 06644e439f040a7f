/**
 * Reads the committed versions of a logical key from its ref directory.
 *
 * A ref is visible only when the commit named in it is published, so refs
 * written by a commit in progress (or by one killed before its commit point)
 * are skipped. Version numbers are derived in ref file name order (timestamp,
 * then commit suffix) as `max(stored, last taken + 1)`: identical to the
 * stored numbers in a store written by one line of history, and still unique
 * and increasing after `git merge` brought in another branch's versions of
 * the same key; the same on every clone with the same files. A version's
 * `reservedThrough` counts as taken for the versions after it, so numbers an
 * import reserved stay taken even when a merge puts another branch's versions
 * after the one that reserved them.
 *
 * Derived numbers depend on the refs before them, so removing old refs
 * (maxVersions, GC) could change them. Before any writer removes a ref or
 * publishes a version of a key, it settles the key's numbers
 * (`settleVersionNumbers`): refs whose stored number differs from the derived
 * one are rewritten with the derived number. That changes nothing a reader
 * sees (the derivation gives the same numbers before, during and after), and
 * from then on stored and derived numbers agree, so no later removal moves them.
 *
 * Every published ref is checked against the commit that lists it (full key,
 * logical key, checksum, and a version number no lower than the one the
 * commit wrote: settling only ever raises it): a ref that disagrees is an
 * `IntegrityError`, never another version's data. A ref whose commit file is
 * missing is skipped only when a publish record proves it belongs to a commit
 * in progress or to a dead writer's (see staging.ts); otherwise the commit
 * file was lost, and reading the key is an `IntegrityError` too. A ref that
 * does not parse is an `IntegrityError` as well, unless its file name carries
 * the suffix of such a commit in progress or abandoned: a machine crash
 * before the commit point may tear the refs the commit was writing.
 *
 * Checking a ref against a commit of a large transaction means hashing that
 * whole commit; what one process learnt that way is kept in the key's ref
 * checks (src/model/ref-checks.ts), so another process trusts the same ref
 * without its commit while the commit file is unchanged, and takes the
 * ref's bytes from the copy kept there while the key's directory is.
 */
import { basename } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { IntegrityError } from '../errors.js';
import { refFileName, refFileTimestamp } from '../model/keys.js';
import { lastTakenVersion, type VersionRecord } from '../model/records.js';
import type { CommitLog } from './commits.js';
import { RefChecker, type ListingChecks, type RefCheckSource } from './ref-checker.js';
import type { RefStore } from './refs.js';
import type { PendingCommits } from './staging.js';

export interface CommittedVersion {
  /** The version number readers see (see the module comment). */
  version: number;
  record: VersionRecord;
  path: string;
}

export interface KeyListing {
  /** Visible versions, oldest first. */
  versions: CommittedVersion[];
  /** Refs of commits whose writer died before the commit point (debris a writer may remove). */
  unpublished: string[];
}

/**
 * Where the index reads refs and commits from: the store on disk
 * (`RefStore`, `CommitLog`), or the store as committed in the project's git
 * history, so both apply one visibility and numbering rule.
 */
export type RefSource = Pick<RefStore, 'listPaths' | 'readIfExists'> & Partial<Pick<RefStore, 'settleEpoch' | 'readWithCopyIfExists' | 'recordOfCopy'>>;
export type CommitSource = Pick<CommitLog, 'operationFor'>;
/** The commits being published, or abandoned by dead writers; absent for git history (nothing is in progress there). */
export type PendingSource = () => Promise<PendingCommits>;

type RecordState = { record: VersionRecord } | { unpublished: string } | 'missing';

/** A key's listing in which every ref was published, kept to list the key again (see `VersionIndex.list`). */
interface CleanListing {
  paths: string[];
  versions: CommittedVersion[];
  lastTaken: number;
}

/** How many keys' clean listings are kept; past it they are dropped and rebuilt on demand. */
const MAX_LISTINGS = 10_000;

/**
 * How many parsed records are kept: as many as a quarter of the heap's
 * limit holds (a cached record costs about 700 bytes with its share of the
 * listings, measured on a store of 520,000 versions), and at least 200,000.
 * With Node's default limit on a machine of 16 GB or more (some 4 GB) that
 * is about 1,500,000, so a process that works through every key of a store
 * of a million versions keeps them all: each key's listing read again on
 * each pass (5.5 ms for a key of 52 versions) made a transaction of a save
 * to each of 10,000 keys take minutes instead of seconds. Past the bound
 * the oldest records of other keys than the one being listed or remembered
 * are dropped, down to three quarters of it, with those keys' listings;
 * those refs are read again when next listed (checked by the ref checks,
 * not their commits). One key is never cut short, so a key larger than the
 * bound is not read again whole on each of its saves.
 */
export const MIN_CACHED_RECORDS = 200_000;
const BYTES_PER_CACHED_RECORD = 700;

/** The bound for this process's heap (see `MIN_CACHED_RECORDS`). */
export function cachedRecordsBound(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.max(MIN_CACHED_RECORDS, Math.floor(heapLimitBytes / 4 / BYTES_PER_CACHED_RECORD));
}

export class VersionIndex {
  // Ref files are immutable once published, so parsed records are cached by path.
  private readonly records = new Map<string, VersionRecord>();
  // The last listing of each key whose every ref was published with its
  // record cached. A key is listed again on every save: when its ref paths
  // still start with the same paths, the numbers derived for those are the
  // same (each depends only on the refs before it) and only the refs after
  // them are looked at. Dropped with the records whenever a ref may have
  // been rewritten or removed.
  private readonly listings = new Map<string, CleanListing>();
  private epoch: string | undefined;
  // Changes whenever a cached record or listing may have gone stale or been
  // dropped: a listing or a record read that began before keeps its result
  // for its caller but does not cache it.
  private generation = 0;
  private readonly checker: RefChecker | null;

  constructor(
    private readonly refs: RefSource,
    private readonly commits: CommitSource,
    private readonly pending?: PendingSource,
    checks?: RefCheckSource,
    // The bound (see `MIN_CACHED_RECORDS`); found from the heap's limit once the cache grows past the least bound.
    private maxCachedRecords?: number,
  ) {
    this.checker = checks === undefined ? null : new RefChecker(checks);
  }

  /** How many parsed records are cached now (see `MIN_CACHED_RECORDS`). */
  get cachedRecordCount(): number {
    return this.records.size;
  }

  /**
   * Keeps the cache within its bound (see `MIN_CACHED_RECORDS`), sparing
   * `logicalKey`'s records. Every path of a clean listing is in `records`
   * (what `remember` relies on to find the listings a settled ref changes),
   * so a key whose record goes loses its listing, and listings under way
   * are not stored (see `dropListings`).
   */
  private boundCache(logicalKey: string): void {
    if (this.maxCachedRecords === undefined) {
      if (this.records.size <= MIN_CACHED_RECORDS) return;
      this.maxCachedRecords = cachedRecordsBound();
    }
    if (this.records.size <= this.maxCachedRecords) return;
    const target = Math.floor(this.maxCachedRecords * 0.75);
    for (const [path, record] of this.records) {
      if (this.records.size <= target) break;
      if (record.logicalKey === logicalKey) continue;
      this.records.delete(path);
      this.listings.delete(record.logicalKey);
    }
    this.generation++;
  }

  /**
   * Drops every clean listing, and keeps the listings and record reads
   * still under way from storing what they read (a ref may have been
   * rewritten, or its record dropped, meanwhile).
   */
  private dropListings(): void {
    this.listings.clear();
    this.generation++;
  }

  async list(logicalKey: string): Promise<KeyListing> {
    if (this.refs.settleEpoch !== undefined) {
      // Settling rewrites refs in place (the one exception to their immutability): drop the cache when it happened.
      const epoch = await this.refs.settleEpoch();
      if (epoch !== this.epoch) {
        this.records.clear();
        this.dropListings();
        this.epoch = epoch;
      }
    }
    this.boundCache(logicalKey);
    const generation = this.generation;
    const known = this.listings.get(logicalKey);
    const checks = this.checker?.begin(logicalKey) ?? null;
    // A key this process has not listed may have copies of its refs recorded (see RefCopies), which spare reading each ref.
    if (known === undefined && checks !== null && this.refs.readWithCopyIfExists !== undefined) await this.checker!.statDirectory(checks);
    const paths = await this.refs.listPaths(logicalKey);
    const reused = known !== undefined && startsWithPaths(paths, known.paths) ? known : undefined;
    const versions: CommittedVersion[] = reused === undefined ? [] : reused.versions.slice();
    const unpublished: string[] = [];
    let pending: PendingCommits | null = null;
    let lastTaken = reused === undefined ? 0 : reused.lastTaken;
    let isClean = true;
    for (let i = reused === undefined ? 0 : reused.paths.length; i < paths.length; i++) {
      const path = paths[i]!;
      // Cached records skip the await: a key of thousands of versions is listed on every save.
      const cached = this.records.get(path);
      let state = cached === undefined ? await this.readRecord(path, logicalKey, checks) : { record: cached };
      if (state !== 'missing' && 'unpublished' in state && this.pending !== undefined) {
        pending ??= await this.pending();
        if (pending.abandoned.has(state.unpublished)) unpublished.push(path);
        else if (!pending.live.has(state.unpublished)) {
          // Its writer may have published and removed its publish record between our two reads.
          state = await this.readRecord(path, logicalKey, checks);
          if (state !== 'missing' && 'unpublished' in state) {
            throw new IntegrityError(`ref ${path} names commit ${state.unpublished}, whose file is missing (run fsck)`, { path });
          }
        }
      }
      if (state === 'missing' || 'unpublished' in state) {
        isClean = false;
        continue;
      }
      const version = nextVersionNumber(lastTaken, state.record.version);
      versions.push({ version, record: state.record, path });
      lastTaken = lastTakenVersion({ version, record: state.record });
    }
    const backlog = checks === null ? undefined : this.checker!.finish(checks, versions, { paths, isClean });
    if (backlog !== undefined) await backlog;
    // A listing that skipped a ref is not kept: that ref may be published by the next listing.
    if (isClean && generation === this.generation) {
      if (!this.listings.has(logicalKey) && this.listings.size >= MAX_LISTINGS) this.listings.clear();
      this.listings.set(logicalKey, { paths, versions: versions.slice(), lastTaken });
    } else {
      this.listings.delete(logicalKey);
    }
    return { versions, unpublished };
  }

  async latest(logicalKey: string): Promise<CommittedVersion | null> {
    const { versions } = await this.list(logicalKey);
    return versions.at(-1) ?? null;
  }

  /** Waits for the ref checks files that listings scheduled to be written (see RefChecker). */
  flush(): Promise<void> {
    return this.checker?.flush() ?? Promise.resolve();
  }

  /** Caches a record this process has just published, so it is not read back from disk. */
  remember(path: string, record: VersionRecord): void {
    // A ref rewritten in place (settled) changes the listings that hold it.
    if (this.records.has(path)) this.dropListings();
    // A listing under way may have read this ref's old bytes before it was cached: it must neither keep nor cache them.
    else this.generation++;
    this.records.set(path, record);
    this.boundCache(record.logicalKey);
  }

  forget(path: string): void {
    this.records.delete(path);
    this.dropListings();
  }

  /**
   * A ref's record from its file, noting its copy when the listing may
   * record copies; null when the file was removed meanwhile (cleanup or GC
   * in another process).
   */
  private async readFile(path: string, name: string, checks: ListingChecks | null): Promise<VersionRecord | null> {
    if (checks === null || !checks.isCollecting || this.refs.readWithCopyIfExists === undefined) return this.refs.readIfExists(path);
    const read = await this.refs.readWithCopyIfExists(path);
    if (read !== null) this.checker!.noteCopy(checks, name, read.copy, false);
    return read?.record ?? null;
  }

  /** The commit in progress or abandoned whose ref `path` is, by its file name; null when none is. */
  private async pendingCommitNamedBy(path: string): Promise<string | null> {
    return this.pending === undefined ? null : pendingCommitOf(basename(path), await this.pending());
  }

  private async readRecord(path: string, logicalKey: string, checks: ListingChecks | null): Promise<RecordState> {
    const cached = this.records.get(path);
    if (cached) return { record: cached };
    // What is read is cached only if nothing was dropped or remembered meanwhile (see `generation`).
    const generation = this.generation;
    const keep = (record: VersionRecord): RecordState => {
      if (generation === this.generation) this.records.set(path, record);
      return { record };
    };
    const name = basename(path);
    const copy = checks?.dirStats === undefined ? undefined : await this.checker!.copyOf(checks, name);
    // A recorded copy is verified as the file would be; one that is not falls back to the file (and the copies are dropped).
    let record: VersionRecord | null = copy === undefined ? null : this.refs.recordOfCopy!(copy, path);
    if (copy !== undefined) this.checker!.noteCopy(checks!, name, record === null ? null : copy, true);
    try {
      record ??= await this.readFile(path, name, checks);
    } catch (error) {
      const commit = error instanceof IntegrityError ? await this.pendingCommitNamedBy(path) : null;
      if (commit === null) throw error;
      return { unpublished: commit };
    }
    if (record === null) return 'missing';
    if (record.logicalKey !== logicalKey) {
      throw new IntegrityError(`ref ${path} belongs to ${JSON.stringify(record.logicalKey)}, not ${JSON.stringify(logicalKey)}`, { path });
    }
    if (checks !== null && (await this.checker!.isVouched(record, checks))) return keep(record);
    this.checker?.noteChecking(record.commit);
    const listed = await this.commits.operationFor(record.commit, record.fullKey);
    if (listed === null) return { unpublished: record.commit };
    if (listed === undefined || listed.logicalKey !== record.logicalKey || record.version < listed.version || listed.checksum !== record.checksum) {
      throw new IntegrityError(`ref ${path} disagrees with commit ${record.commit}, which lists ${describeListed(listed, record.fullKey)}`, {
        path,
        key: record.fullKey,
      });
    }
    if (checks !== null) checks.hasNewChecks = true;
    return keep(record);
  }
}

/**
 * A ref a commit writes is fsynced in the same round as its directory entry
 * (publish.ts), so a machine crash before the commit point can leave it torn.
 * Its file name still carries its commit's suffix: when that names a commit
 * in progress or abandoned, the torn ref is that commit's, not published data.
 */
function pendingCommitOf(name: string, pending: PendingCommits): string | null {
  const timestamp = refFileTimestamp(name);
  if (timestamp === null) return null;
  for (const commit of [...pending.live, ...pending.abandoned]) if (name === refFileName(timestamp, commit)) return commit;
  return null;
}

/** Whether `paths` begins with every one of `prefix`, in order. */
function startsWithPaths(paths: readonly string[], prefix: readonly string[]): boolean {
  if (prefix.length > paths.length) return false;
  for (let i = 0; i < prefix.length; i++) if (paths[i] !== prefix[i]) return false;
  return true;
}

/**
 * The number readers give a version: its stored number, or one past the last
 * number taken before it (see `lastTakenVersion`) when that is higher.
 */
export function nextVersionNumber(lastTaken: number, stored: number): number {
  return Math.max(stored, lastTaken + 1);
}

function describeListed(listed: { version: number; checksum: string } | undefined, fullKey: string): string {
  return listed === undefined ? `no version ${JSON.stringify(fullKey)}` : `version ${listed.version} with checksum ${listed.checksum}`;
}
