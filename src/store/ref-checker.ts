/**
 * Uses and keeps a key's ref checks (src/model/ref-checks.ts) for the
 * version index: whether a ref read from disk is vouched for without reading
 * its commit, and, after a listing that checked refs against their commits,
 * what to record for the next process.
 */
import { keyDirName } from '../model/keys.js';
import type { VersionRecord } from '../model/records.js';
import { fileIdentity, isIdentityTrustworthy, isVouchedFor, type RefChecks, type StatLike } from '../model/ref-checks.js';
import type { RefCheckStore } from './ref-checks.js';

/** Where ref checks are kept; absent for git history (its commits are read from git's own verified objects). */
export type RefCheckSource = Pick<RefCheckStore, 'read' | 'write' | 'statCommit'>;

/** The ref checks one listing of a key uses and adds to. */
export interface ListingChecks {
  dir: string;
  /** Read at the first ref not cached in memory; null when there are none usable. */
  recorded: RefChecks | null | undefined;
  /** Whether a ref was checked against its commit, so the file should be written again. */
  hasNewChecks: boolean;
}

export class RefChecker {
  // When this process first checked a ref against each commit, for `isIdentityTrustworthy`.
  private readonly commitCheckedAt = new Map<string, number>();
  // Commit files' stats, taken once per process (commits are immutable, as CommitLog assumes), and when.
  private readonly commitStatsSeen = new Map<string, { stats: StatLike; at: number }>();

  constructor(private readonly store: RefCheckSource) {}

  begin(logicalKey: string): ListingChecks {
    return { dir: keyDirName(logicalKey), recorded: undefined, hasNewChecks: false };
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
   * Writes the key's ref checks after a listing checked refs against their
   * commits. Every record the version index holds was checked (or written by
   * this process), so each visible version vouches for what its commit
   * lists; a commit's identity is recorded when the file had last changed
   * well before this process first checked it (or was vouched for already),
   * and versions of commits without one are left out.
   */
  async finish(checks: ListingChecks, versions: ReadonlyArray<{ record: VersionRecord }>): Promise<void> {
    if (!checks.hasNewChecks) return;
    const commits: Record<string, string | null> = {};
    const operations: RefChecks['operations'] = {};
    for (const { record } of versions) {
      if (!(record.commit in commits)) commits[record.commit] = await this.trustworthyIdentity(record.commit, checks.recorded ?? null);
      if (commits[record.commit] !== null) operations[record.fullKey] = [record.commit, record.checksum, record.version];
    }
    for (const [commit, identity] of Object.entries(commits)) if (identity === null) delete commits[commit];
    await this.store.write({ dir: checks.dir, operations, commits: commits as Record<string, string> });
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
