/**
 * Version refs: one small JSON file per version at
 * `refs/keys/<key dir>/<timestamp stem>.json` (see `keyDirName` and
 * `timestampToFileStem`). A ref is immutable once its commit is published;
 * the files of one key sort by time because their names are timestamps.
 *
 * Every ref written ends with a `digest` field: the sha256 of the ref
 * encoded without it. Fields no other file checks (`created`, `ttl`, `tags`,
 * `phase`, `source`, the commit id) are covered by it, so a flipped bit
 * anywhere in a ref is refused instead of read back as other metadata; the
 * commit that lists the ref covers its key, version and checksum again.
 * Refs of older stores carry no digest and are read as before.
 */
import { basename, join } from 'node:path';
import { IntegrityError } from '../errors.js';
import { fileStemToTimestamp, keyDirName, timestampToFileStem } from '../model/keys.js';
import { encodeDigestedRecord, splitDigest, versionRecordProblem, type VersionRecord } from '../model/records.js';
import { writeFileAtomic } from './atomic-write.js';
import { isErrno, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';

const REF_SUFFIX = '.json';

export class RefStore {
  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
  ) {}

  dirOf(logicalKey: string): string {
    return join(this.layout.keyRefs, keyDirName(logicalKey));
  }

  pathOf(logicalKey: string, timestamp: string): string {
    return join(this.dirOf(logicalKey), `${timestampToFileStem(timestamp)}${REF_SUFFIX}`);
  }

  /** The ref file paths of a key, oldest first. Foreign files are ignored. */
  async listPaths(logicalKey: string): Promise<string[]> {
    const dir = this.dirOf(logicalKey);
    const names = await readdirIfExists(this.fs, dir);
    return names
      .filter((name) => name.endsWith(REF_SUFFIX) && fileStemToTimestamp(name.slice(0, -REF_SUFFIX.length)) !== null)
      .sort()
      .map((name) => join(dir, name));
  }

  /** Names of all key directories (not logical keys: those come from the records). */
  async listKeyDirs(): Promise<string[]> {
    return (await readdirIfExists(this.fs, this.layout.keyRefs)).sort();
  }

  /** Reads and validates a ref; null when the file does not exist. */
  async readIfExists(path: string): Promise<VersionRecord | null> {
    const bytes = await readFileIfExists(this.fs, path);
    return bytes === null ? null : parseVersionRecord(bytes, path);
  }

  /**
   * Writes a ref atomically and returns the directories the caller must fsync:
   * the key's directory, and refs/keys/ too when the key's directory was new.
   */
  async write(record: VersionRecord): Promise<string[]> {
    const dir = this.dirOf(record.logicalKey);
    const target = this.pathOf(record.logicalKey, record.timestamp);
    const { createdDir } = await writeFileAtomic(this.fs, this.layout.tmp, target, encodeVersionRecord(record), { createDir: true });
    return createdDir ? [dir, this.layout.keyRefs] : [dir];
  }

  async remove(path: string): Promise<void> {
    try {
      await this.fs.unlink(path);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }
}

/** A ref's bytes: the record, then its digest (see the module comment). */
export function encodeVersionRecord(record: VersionRecord): Buffer {
  return encodeDigestedRecord(record);
}

/**
 * Parses and validates a ref file: a torn, edited or misplaced file (one
 * whose name is not its timestamp's, say a sibling copied over it) is an
 * integrity error.
 */
export function parseVersionRecord(bytes: Buffer, path: string): VersionRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new IntegrityError(`ref ${path} is not valid JSON (torn or edited file)`, { path });
  }
  const { record, isIntact } = splitDigest(parsed);
  if (isIntact === false) throw new IntegrityError(`ref ${path} does not match its digest (damaged or edited file)`, { path });
  const problem = versionRecordProblem(record);
  if (problem !== null) throw new IntegrityError(`ref ${path} ${problem}`, { path });
  const valid = record as VersionRecord;
  if (!basename(path).startsWith(timestampToFileStem(valid.timestamp))) {
    throw new IntegrityError(`ref ${path} holds ${JSON.stringify(valid.fullKey)}, whose file has another name (a ref copied over another?)`, {
      path,
      key: valid.fullKey,
    });
  }
  return valid;
}
