/**
 * Snapshot tags: `refs/tags/<snapshot id with ':' → '-'>.json`, each naming
 * the tree object that lists a snapshot's versions (see src/model/snapshot.ts
 * and docs/FORMAT.md, "Snapshots"). Garbage collection keeps every object a
 * live tag reaches: the tree object and the data objects of its entries.
 *
 * Writers call `write` and `remove` holding the store's write lock; both are
 * atomic and durable (the tags directory is fsynced) when they resolve.
 */
import { basename, join } from 'node:path';
import { IntegrityError } from '../errors.js';
import { deserialize } from '../model/codec.js';
import { encodeDigestedRecord, splitDigest } from '../model/records.js';
import {
  assertSnapshotId,
  tagFileName,
  tagRecordProblem,
  treeProblem,
  type SnapshotTree,
  type TagRecord,
} from '../model/snapshot.js';
import { syncDirs, writeFileAtomic } from './atomic-write.js';
import { isErrno, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import type { ObjectStore } from './objects.js';

export type { SnapshotTree, SnapshotTreeEntry, TagRecord } from '../model/snapshot.js';

const TAG_SUFFIX = '.json';

export class TagStore {
  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
    private readonly objects: ObjectStore,
  ) {}

  pathOf(snapshotId: string): string {
    assertSnapshotId(snapshotId);
    return join(this.layout.tags, tagFileName(snapshotId));
  }

  /** Every tag, sorted by snapshot id. A torn or foreign `.json` file is an `IntegrityError`. */
  async list(): Promise<TagRecord[]> {
    const names = (await readdirIfExists(this.fs, this.layout.tags)).filter((name) => name.endsWith(TAG_SUFFIX)).sort();
    const tags: TagRecord[] = [];
    for (const name of names) {
      const path = join(this.layout.tags, name);
      const bytes = await readFileIfExists(this.fs, path);
      // Deleted between listing and reading by another process.
      if (bytes !== null) tags.push(parseTagRecord(bytes, path));
    }
    return tags.sort((a, b) => (a.snapshotId < b.snapshotId ? -1 : a.snapshotId > b.snapshotId ? 1 : 0));
  }

  /** The tag of `snapshotId`, or null when there is none. */
  async read(snapshotId: string): Promise<TagRecord | null> {
    const path = this.pathOf(snapshotId);
    const bytes = await readFileIfExists(this.fs, path);
    if (bytes === null) return null;
    const tag = parseTagRecord(bytes, path);
    // On a case-insensitive file system another id's file can answer; it is not this snapshot.
    return tag.snapshotId === snapshotId ? tag : null;
  }

  /** Reads the tree a tag names, verified against its checksum and validated. */
  async readTree(tag: TagRecord): Promise<SnapshotTree> {
    const path = this.objects.pathOf(tag.tree);
    const bytes = await this.objects.read(tag.tree, tag.snapshotId);
    let tree: unknown;
    try {
      tree = deserialize(bytes);
    } catch {
      throw new IntegrityError(`tree object ${tag.tree} of ${tag.snapshotId} is not valid JSON`, { path, checksum: tag.tree });
    }
    const problem = treeProblem(tree);
    if (problem !== null) throw new IntegrityError(`tree object ${tag.tree} of ${tag.snapshotId} ${problem}`, { path, checksum: tag.tree });
    if ((tree as SnapshotTree).snapshotId !== tag.snapshotId) {
      throw new IntegrityError(`tree object ${tag.tree} belongs to ${(tree as SnapshotTree).snapshotId}, not ${tag.snapshotId}`, {
        path,
        checksum: tag.tree,
      });
    }
    return tree as SnapshotTree;
  }

  /** Whether a tag file exists under this id's file name (answers for any case variant on case-insensitive file systems). */
  async exists(snapshotId: string): Promise<boolean> {
    try {
      await this.fs.stat(this.pathOf(snapshotId));
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  /** Writes a tag atomically and durably. The tree object must be written (and fsynced) first. */
  async write(tag: TagRecord): Promise<void> {
    const problem = tagRecordProblem(tag);
    if (problem !== null) throw new IntegrityError(`tag ${tag.snapshotId} ${problem}`, { path: this.layout.tags });
    await this.fs.mkdir(this.layout.tags, { recursive: true });
    await writeFileAtomic(this.fs, this.layout.tmp, this.pathOf(tag.snapshotId), encodeDigestedRecord(tag));
    await syncDirs(this.fs, [this.layout.tags]);
  }

  /** Deletes a tag durably; answers whether it existed. Objects stay until garbage collection. */
  async remove(snapshotId: string): Promise<boolean> {
    if ((await this.read(snapshotId)) === null) return false;
    try {
      await this.fs.unlink(this.pathOf(snapshotId));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
    await syncDirs(this.fs, [this.layout.tags]);
    return true;
  }
}

/**
 * Parses and validates a tag file; a torn, edited or foreign file (one whose
 * name is not its snapshot id's, or whose digest does not match) is an
 * integrity error. Tags written before digests existed carry none.
 */
export function parseTagRecord(bytes: Buffer, path: string): TagRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new IntegrityError(`tag ${path} is not valid JSON (torn or edited file)`, { path });
  }
  const { record, isIntact } = splitDigest(parsed, bytes);
  if (isIntact === false) throw new IntegrityError(`tag ${path} does not match its digest (damaged or edited file)`, { path });
  const problem = tagRecordProblem(record);
  if (problem !== null) throw new IntegrityError(`tag ${path} ${problem}`, { path });
  const tag = record as TagRecord;
  // Compared without case: on a case-insensitive file system another id's file can answer (see read).
  if (tagFileName(tag.snapshotId).toLowerCase() !== basename(path).toLowerCase()) {
    throw new IntegrityError(`tag ${path} holds ${tag.snapshotId}, whose file has another name`, { path });
  }
  return tag;
}
