/**
 * Uses and keeps a key's ref checks (src/model/ref-checks.ts) for the
 * version index: whether a ref read from disk is vouched for without reading
 * its commit, and, after a listing that checked refs against their commits,
 * what to record for the next process.
 */
import { basename } from 'node:path';
import { keyDirName } from '../model/keys.js';
import type { VersionRecord } from '../model/records.js';
import { fileIdentity, isIdentityTrustworthy, isVouchedFor, type RefChecks, type RefCopies, type StatLike } from '../model/ref-checks.js';
import type { RefCheckStore } from './ref-checks.js';

/** Where ref checks are kept; absent for git history (its commits are read from git's own verified objects). */
export type RefCheckSource = Pick<RefCheckStore, 'read' | 'write' | 'statCommit' | 'statKeyDir'>;

/** The ref checks one listing of a key uses and adds to. */
export interface ListingChecks {
  dir: string;
  /** Read at the first ref not cached in memory; null when there are none usable. */
  recorded: RefChecks | null | undefined;
  /** Whether a ref was checked against its commit, so the file should be written again. */
  hasNewChecks: boolean;
  /** The key directory's stat, taken before it was listed, and when; null without a directory, undefined when not taken. */
  dirStats?: { stats: StatLike; at: number } | null;
  /** The recorded copies, once looked at: usable while the directory keeps their identity (see `copyOf`); null when not. */
  usableCopies: Record<string, string> | null | undefined;
  /** Whether a recorded copy did not verify: the copies are then dropped. */
  hasBadCopy: boolean;
  /** Copies of the refs this listing read (from disk or from copies), by file name, while they may be recorded (see `isCollecting`). */
  copies: Map<string, string>;
  /** Whether this listing may record copies anew: the directory had last changed well before its stat, and the copies so far are within the bound. */
  isCollecting: boolean;
  /** The length of the copies collected so far, against `MAX_COPIES_LENGTH`. */
  copiesLength: number;
}

/**
 * The most text of copies one key's file holds (some 20,000 refs): past it a
 * key's refs are read from their files, so that a key of very many versions
 * does not make every first listing of it read and write a file of that size.
 */
export const MAX_COPIES_LENGTH = 16 * 1024 * 1024;
/** Checks files a process leaves to write after their listings returned, at most (see `finish`). */
const MAX_WAITING_WRITES = 16;

export class RefChecker {
  // When this process first checked a ref against each commit, for `isIdentityTrustworthy`.
  private readonly commitCheckedAt = new Map<string, number>();
  // Commit files' stats, taken once per process (commits are immutable, as CommitLog assumes), and when.
  private readonly commitStatsSeen = new Map<string, { stats: StatLike; at: number }>();
  // The writes of checks files scheduled so far, one after another, and how many have not finished (see `finish`).
  private writing: Promise<void> = Promise.resolve();
  private waitingWrites = 0;

  constructor(private readonly store: RefCheckSource) {}

  begin(logicalKey: string): ListingChecks {
    return {
      dir: keyDirName(logicalKey),
      recorded: undefined,
      hasNewChecks: false,
      usableCopies: undefined,
      hasBadCopy: false,
      copies: new Map(),
      isCollecting: false,
      copiesLength: 0,
    };
  }

  /**
   * Takes the key directory's stat, before it is listed: the copies recorded
   * are used only while it is the identity they were taken with, and copies
   * made by this listing are bound to it, an identity no later change keeps.
   */
  async statDirectory(checks: ListingChecks): Promise<void> {
    const at = Date.now();
    const stats = await this.store.statKeyDir(checks.dir);
    checks.dirStats = stats === null ? null : { stats, at };
    // As for commit identities: a change in the same tick of the clock as the stat could hide behind it.
    checks.isCollecting = stats !== null && isIdentityTrustworthy(stats, at);
  }

  /**
   * The recorded copy of ref file `name` (its bytes as text) when the
   * directory still has the identity the copies were taken with; undefined
   * otherwise, and the file is read. A name the copies lack drops them.
   */
  async copyOf(checks: ListingChecks, name: string): Promise<string | undefined> {
    if (checks.usableCopies === undefined) {
      if (checks.recorded === undefined) checks.recorded = await this.store.read(checks.dir);
      const copies = checks.recorded?.copies;
      const dir = checks.dirStats;
      checks.usableCopies = copies !== undefined && dir !== undefined && dir !== null && copies.identity === fileIdentity(dir.stats) ? copies.refs : null;
    }
    if (checks.usableCopies === null) return undefined;
    const copy = checks.usableCopies[name];
    if (copy === undefined) checks.hasBadCopy = true;
    return copy;
  }

  /** Notes the copy of a ref this listing read (null: the ref can have none, so no copies are recorded). */
  noteCopy(checks: ListingChecks, name: string, copy: string | null, isRecorded: boolean): void {
    if (copy === null && isRecorded) checks.hasBadCopy = true;
    if (!checks.isCollecting) return;
    checks.copiesLength += copy?.length ?? 0;
    if (copy !== null && checks.copiesLength <= MAX_COPIES_LENGTH) {
      checks.copies.set(name, copy);
    } else {
      // A ref without a copy, or past the bound: no copies are recorded, and none kept meanwhile.
      checks.isCollecting = false;
      checks.copies.clear();
    }
  }

  /** Whether the key's ref checks vouch for `record` without reading its commit. */
  async isVouched(record: VersionRecord, checks: ListingChecks): Promise<boolean> {
    // Read once per listing, also when there is none (null).
    if (checks.recorded === undefined) checks.recorded = await this.store.read(checks.dir);
    if (checks.recorded === null || checks.recorded.operations[record.fullKey] === undefined) return false;
    const stats = await this.commitStats(record.commit);
    return isVouchedFor(checks.recorded, record, stats === null ? null : fileIdentity(stats));
  }

  /** Notes that a ref is about to be checked against `commitId`, for the identity the next write may record. */
  noteChecking(commitId: string): void {
    if (!this.commitCheckedAt.has(commitId)) this.commitCheckedAt.set(commitId, Date.now());
  }

  /**
   * Schedules the writing of the key's ref checks after a listing that
   * checked refs against their commits, can record copies anew, or met a
   * copy that did not verify. Every record the version index holds was
   * checked (or written by this process), so each visible version vouches
   * for what its commit lists; a commit's identity is recorded when the file
   * had last changed well before this process first checked it (or was
   * vouched for already), and versions of commits without one are left out.
   * Returns a promise to wait for only when many writes are waiting.
   */
  finish(checks: ListingChecks, versions: ReadonlyArray<{ record: VersionRecord }>, listing: { paths: readonly string[]; isClean: boolean }): Promise<void> | undefined {
    const copies = this.copiesToRecord(checks, listing);
    const hasNewCopies = copies !== undefined && checks.recorded?.copies?.identity !== copies.identity;
    if (!checks.hasNewChecks && !hasNewCopies && !checks.hasBadCopy) return undefined;
    const listed = versions.slice();
    // Only what the write needs is kept until it runs.
    const { dir, recorded } = checks;
    // After the listing has returned (on the next turn of the event loop): a cache, whose writing (some 80 KB for a key
    // of 100 versions with its copies) is no part of the read that made it. `flush` waits for it.
    this.waitingWrites++;
    this.writing = this.writing
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => this.write(dir, recorded ?? null, listed, copies))
      .catch(() => undefined)
      .then(() => void this.waitingWrites--);
    // Past a few, the listing waits for them, so that a walk over every key holds no more than that many in memory.
    return this.waitingWrites > MAX_WAITING_WRITES ? this.writing : undefined;
  }

  /** Waits for the checks files scheduled so far to be written. */
  flush(): Promise<void> {
    return this.writing;
  }

  private async write(dir: string, recorded: RefChecks | null, versions: ReadonlyArray<{ record: VersionRecord }>, copies: RefCopies | undefined): Promise<void> {
    const commits: Record<string, string | null> = {};
    const operations: RefChecks['operations'] = {};
    for (const { record } of versions) {
      if (!(record.commit in commits)) commits[record.commit] = await this.trustworthyIdentity(record.commit, recorded);
      if (commits[record.commit] !== null) operations[record.fullKey] = [record.commit, record.checksum, record.version];
    }
    for (const [commit, identity] of Object.entries(commits)) if (identity === null) delete commits[commit];
    const written: RefChecks = { dir, operations, commits: commits as Record<string, string> };
    if (copies !== undefined) written.copies = copies;
    await this.store.write(written);
  }

  /**
   * The copies the file should hold after this listing: those it used, when
   * every one verified; new ones when every ref in the directory was
   * published and read with a copy, and the directory had last changed well
   * before its stat (as for commit identities, so a change in the same tick
   * of the clock shows as a new identity); else none.
   */
  private copiesToRecord(checks: ListingChecks, listing: { paths: readonly string[]; isClean: boolean }): RefCopies | undefined {
    if (checks.hasBadCopy || !listing.isClean) return undefined;
    if (checks.usableCopies) return checks.recorded?.copies;
    const dir = checks.dirStats;
    if (!checks.isCollecting || dir === undefined || dir === null || checks.copies.size !== listing.paths.length) return undefined;
    const refs: Record<string, string> = {};
    for (const path of listing.paths) {
      const name = basename(path);
      const copy = checks.copies.get(name);
      if (copy === undefined) return undefined;
      refs[name] = copy;
    }
    return { identity: fileIdentity(dir.stats), refs };
  }

  private async commitStats(commitId: string, takenSince = -Infinity): Promise<StatLike | null> {
    const known = this.commitStatsSeen.get(commitId);
    if (known !== undefined && known.at >= takenSince) return known.stats;
    const at = Date.now();
    const stats = await this.store.statCommit(commitId);
    if (stats !== null) this.commitStatsSeen.set(commitId, { stats, at });
    return stats;
  }

  private async trustworthyIdentity(commitId: string, recorded: RefChecks | null): Promise<string | null> {
    const checkedAt = this.commitCheckedAt.get(commitId);
    // The identity recorded for a commit checked here comes from a stat taken after the check began, so it is the file that was read.
    const stats = await this.commitStats(commitId, checkedAt);
    if (stats === null) return null;
    const identity = fileIdentity(stats);
    if (recorded?.commits[commitId] === identity) return identity;
    return checkedAt !== undefined && isIdentityTrustworthy(stats, checkedAt) ? identity : null;
  }
}
