/**
 * Version refs: one small JSON file per version at
 * `refs/keys/<key dir>/<timestamp stem>_<commit suffix>.json` (see
 * `keyDirName` and `refFileName`; stores written before the suffix have
 * `<timestamp stem>.json`, read alike). A ref's data never changes once its
 * commit is published; only its version number may be settled once (see
 * version-index.ts). The files of one key sort by time because their names
 * start with timestamps.
 *
 * Every ref written ends with a `digest` field: the sha256 of the ref
 * encoded without it. Fields no other file checks (`created`, `ttl`, `tags`,
 * `phase`, `source`, the commit id) are covered by it, so a flipped bit
 * anywhere in a ref is refused instead of read back as other metadata; the
 * commit that lists the ref covers its key and checksum again. Refs of older
 * stores carry no digest and are read as before.
 */
import { basename, join, sep } from 'node:path';
import { IntegrityError } from '../errors.js';
import { isRefFileNameOf, keyDirName, refFileName, refFileTimestamp } from '../model/keys.js';
import { encodeDigestedRecord, splitDigest, versionRecordProblem, type VersionRecord } from '../model/records.js';
import { writeFileAtomic, writeFileAtomicFlushing } from './atomic-write.js';
import { isErrno, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import { unlinkIfExists } from './bulk-io.js';
import { FILE_CONCURRENCY, mapLimit } from './write-pool.js';

export class RefStore {
  private readonly refNames = new Set<string>();

  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
  ) {}

  dirOf(logicalKey: string): string {
    return join(this.layout.keyRefs, keyDirName(logicalKey));
  }

  /** Where a version's ref is written. */
  pathOf(record: Pick<VersionRecord, 'logicalKey' | 'timestamp' | 'commit'>): string {
    return join(this.dirOf(record.logicalKey), refFileName(record.timestamp, record.commit));
  }

  /** The ref file paths of a key, oldest first. Foreign files are ignored. */
  async listPaths(logicalKey: string): Promise<string[]> {
    const dir = this.dirOf(logicalKey);
    const names = await readdirIfExists(this.fs, dir);
    // `dir` is normalised and a ref name has no separator: the same path as
    // `join` gives, without its cost for each of thousands of names per save.
    return names
      .filter((name) => this.isRefName(name))
      .sort()
      .map((name) => `${dir}${sep}${name}`);
  }

  /**
   * Whether `name` is a ref file name: a pure fact about the name, whose check
   * parses a timestamp, so it is remembered (a key is listed on every save).
   */
  private isRefName(name: string): boolean {
    if (this.refNames.has(name)) return true;
    if (refFileTimestamp(name) === null) return false;
    if (this.refNames.size >= 100_000) this.refNames.clear();
    this.refNames.add(name);
    return true;
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
   * `readIfExists`, with the file's bytes as UTF-8 text when they are a
   * ref a digest covers and that text encodes back to them: what a copy of
   * the ref may hold (src/model/ref-checks.ts, `RefCopies`); else null.
   */
  async readWithCopyIfExists(path: string): Promise<{ record: VersionRecord; copy: string | null } | null> {
    const bytes = await readFileIfExists(this.fs, path);
    if (bytes === null) return null;
    const text = bytes.toString('utf8');
    const { record, isDigested } = decodeVersionRecord(bytes, path, text);
    // Text without a replacement character encodes back to the very bytes it was decoded from.
    const isExact = !text.includes('\ufffd') || Buffer.from(text, 'utf8').equals(bytes);
    return { record, copy: isDigested && isExact ? text : null };
  }

  /** The record a copy of the ref at `path` holds, verified as the file is when read; null when it is no such copy. */
  recordOfCopy(copy: string, path: string): VersionRecord | null {
    try {
      const { record, isDigested } = decodeVersionRecord(Buffer.from(copy, 'utf8'), path);
      return isDigested ? record : null;
    } catch {
      return null;
    }
  }

  /**
   * Writes a ref atomically and returns the directories the caller must fsync:
   * the key's directory, and refs/keys/ too when the key's directory was new.
   */
  async write(record: VersionRecord, target = this.pathOf(record)): Promise<string[]> {
    const dir = this.dirOf(record.logicalKey);
    const { createdDir } = await writeFileAtomic(this.fs, this.layout.tmp, target, encodeVersionRecord(record), { createDir: true });
    return createdDir ? [dir, this.layout.keyRefs] : [dir];
  }

  /**
   * Writes a ref for a commit in progress: renamed into place whole (readers
   * never see part of it), its fsync started on the descriptor that wrote it
   * but not waited for, so that the commit can flush the ref, its directory
   * and everything else it names in one parallel round. Returns the ref's
   * path, the directories to fsync and the ref's flush. Until the commit
   * point the ref is invisible; a machine crash before it may leave the ref
   * torn, and then the dead writer's publish record marks it as debris
   * (version-index.ts).
   */
  async writeFlushing(record: VersionRecord): Promise<{ path: string; dirs: string[]; flushed: Promise<void> }> {
    const path = this.pathOf(record);
    const dir = this.dirOf(record.logicalKey);
    const { placed, flushed } = await writeFileAtomicFlushing(this.fs, this.layout.tmp, path, encodeVersionRecord(record), { createDir: true });
    return { path, dirs: placed.createdDir ? [dir, this.layout.keyRefs] : [dir], flushed };
  }

  /**
   * Identifies the last settling of version numbers on this machine
   * (`local/settled`, rewritten by each settling; see settle-numbers.ts).
   * Processes cache parsed refs by path, as if immutable; a change here tells
   * them a ref was rewritten in place and their cache must go.
   */
  async settleEpoch(): Promise<string> {
    // Asked on every listing, where the marker is usually missing: a stat that answers undefined costs no thrown error.
    const stats = this.fs.lstatSync(this.settledMarker());
    return stats === undefined ? '' : `${stats.ino}:${stats.mtimeMs}`;
  }

  /** Records that refs were rewritten in place (see `settleEpoch`). */
  async markSettled(): Promise<void> {
    await writeFileAtomic(this.fs, this.layout.tmp, this.settledMarker(), Buffer.from(`${process.pid} ${Date.now()}\n`), { sync: false });
  }

  private settledMarker(): string {
    return join(this.layout.local, 'settled');
  }

  /**
   * Removes several refs side by side, on the thread pool, at most
   * FILE_CONCURRENCY at once: a cleanup removing a hundred refs would
   * otherwise wait for each unlink in turn. Every removal settles before the
   * first failure is thrown.
   */
  async removeAll(paths: readonly string[]): Promise<void> {
    const results = await mapLimit(paths, FILE_CONCURRENCY, (path) => unlinkIfExists(this.fs, path).then(() => null, (error: unknown) => ({ error })));
    const failed = results.find((r) => r !== null);
    if (failed !== undefined) throw failed.error;
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
  return decodeVersionRecord(bytes, path).record;
}

/** `parseVersionRecord`, and whether a digest covers the ref (refs of older stores carry none). */
function decodeVersionRecord(bytes: Buffer, path: string, text = bytes.toString('utf8')): { record: VersionRecord; isDigested: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IntegrityError(`ref ${path} is not valid JSON (torn or edited file)`, { path });
  }
  const { record, isIntact } = splitDigest(parsed, bytes);
  if (isIntact === false) throw new IntegrityError(`ref ${path} does not match its digest (damaged or edited file)`, { path });
  const problem = versionRecordProblem(record);
  if (problem !== null) throw new IntegrityError(`ref ${path} ${problem}`, { path });
  const valid = record as VersionRecord;
  if (!isRefFileNameOf(basename(path), valid.timestamp, valid.commit)) {
    throw new IntegrityError(`ref ${path} holds ${JSON.stringify(valid.fullKey)}, whose file has another name (a ref copied over another?)`, {
      path,
      key: valid.fullKey,
    });
  }
  return { record: valid, isDigested: isIntact === true };
}
