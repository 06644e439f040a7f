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
 */
import { IntegrityError } from '../errors.js';
import { lastTakenVersion, type VersionRecord } from '../model/records.js';
import type { CommitLog } from './commits.js';
import type { RefStore } from './refs.js';

export interface CommittedVersion {
  /** The version number readers see (see the module comment). */
  version: number;
  record: VersionRecord;
  path: string;
}

export interface KeyListing {
  /** Visible versions, oldest first. */
  versions: CommittedVersion[];
  /** Refs whose commit is not published: a commit in progress, or debris of a killed one. */
  unpublished: string[];
}

/**
 * Where the index reads refs and commits from: the store on disk
 * (`RefStore`, `CommitLog`), or the store as committed in the project's git
 * history, so both apply one visibility and numbering rule.
 */
export type RefSource = Pick<RefStore, 'listPaths' | 'readIfExists'> & Partial<Pick<RefStore, 'settleEpoch'>>;
export type CommitSource = Pick<CommitLog, 'isPublished'>;

export class VersionIndex {
  // Ref files are immutable once published, so parsed records are cached by path.
  private readonly records = new Map<string, VersionRecord>();
  private epoch: string | undefined;

  constructor(
    private readonly refs: RefSource,
    private readonly commits: CommitSource,
  ) {}

  async list(logicalKey: string): Promise<KeyListing> {
    if (this.refs.settleEpoch !== undefined) {
      // Settling rewrites refs in place (the one exception to their immutability): drop the cache when it happened.
      const epoch = await this.refs.settleEpoch();
      if (epoch !== this.epoch) {
        this.records.clear();
        this.epoch = epoch;
      }
    }
    const paths = await this.refs.listPaths(logicalKey);
    const versions: CommittedVersion[] = [];
    const unpublished: string[] = [];
    let lastTaken = 0;
    for (const path of paths) {
      const record = await this.readRecord(path, logicalKey);
      if (record === 'missing') continue;
      if (record === 'unpublished') {
        unpublished.push(path);
        continue;
      }
      const version = nextVersionNumber(lastTaken, record.version);
      versions.push({ version, record, path });
      lastTaken = lastTakenVersion({ version, record });
    }
    return { versions, unpublished };
  }

  async latest(logicalKey: string): Promise<CommittedVersion | null> {
    const { versions } = await this.list(logicalKey);
    return versions.at(-1) ?? null;
  }

  /** Caches a record this process has just published, so it is not read back from disk. */
  remember(path: string, record: VersionRecord): void {
    this.records.set(path, record);
  }

  forget(path: string): void {
    this.records.delete(path);
  }

  private async readRecord(path: string, logicalKey: string): Promise<VersionRecord | 'missing' | 'unpublished'> {
    const cached = this.records.get(path);
    if (cached) return cached;
    // Null when removed between listing and reading (cleanup or GC in another process).
    const record = await this.refs.readIfExists(path);
    if (record === null) return 'missing';
    if (record.logicalKey !== logicalKey) {
      throw new IntegrityError(`ref ${path} belongs to ${JSON.stringify(record.logicalKey)}, not ${JSON.stringify(logicalKey)}`, { path });
    }
    if (!(await this.commits.isPublished(record.commit))) return 'unpublished';
    this.records.set(path, record);
    return record;
  }
}

/**
 * The number readers give a version: its stored number, or one past the last
 * number taken before it (see `lastTakenVersion`) when that is higher.
 */
export function nextVersionNumber(lastTaken: number, stored: number): number {
  return Math.max(stored, lastTaken + 1);
}
