/**
 * Reads the committed versions of a logical key from its ref directory.
 *
 * A ref is visible only when the commit named in it is published, so refs
 * written by a commit in progress (or by one killed before its commit point)
 * are skipped. Version numbers are derived in timestamp order as
 * `max(stored, previous + 1)`: identical to the stored numbers in a store
 * that was written by one line of history, and still unique and increasing
 * after `git merge` brought in another branch's versions of the same key.
 * A version's `reservedThrough` counts as the previous number for the
 * versions after it, so numbers an import reserved stay taken even when a
 * merge puts another branch's versions after the one that reserved them.
 */
import { IntegrityError } from '../errors.js';
import type { VersionRecord } from '../model/records.js';
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
export type RefSource = Pick<RefStore, 'listPaths' | 'readIfExists'>;
export type CommitSource = Pick<CommitLog, 'isPublished'>;

export class VersionIndex {
  // Ref files are immutable once published, so parsed records are cached by path.
  private readonly records = new Map<string, VersionRecord>();

  constructor(
    private readonly refs: RefSource,
    private readonly commits: CommitSource,
  ) {}

  async list(logicalKey: string): Promise<KeyListing> {
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
      const version = Math.max(record.version, lastTaken + 1);
      versions.push({ version, record, path });
      lastTaken = Math.max(version, record.reservedThrough ?? 0);
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
