/**
 * The commit log: one file per published commit at `commits/<commit id>.json`.
 * Renaming a commit file into place is the instant a commit (one save or a
 * whole transaction) becomes visible: every ref it publishes was made durable
 * before, and a ref whose commit file does not exist is ignored by readers.
 */
import { constants } from 'node:buffer';
import { join } from 'node:path';
import { IntegrityError } from '../errors.js';
import {
  commitContentHash,
  commitIdOf,
  commitRecordProblem,
  encodeRecord,
  isCommitId,
  type CommitOperation,
  type CommitRecord,
} from '../model/records.js';
import { findOperation, proveCommit, type ProvedCommit } from '../model/commit-scan.js';
import { isErrno, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';

const SUFFIX = '.json';
// Bytes of proved commits kept for lookups; past it the oldest are
// dropped (and read and verified again when next needed). Off the heap, as
// Buffers, so they cost the garbage collector nothing.
const PROVED_BYTES_KEPT = 256 * 1024 * 1024;

export class CommitLog {
  // Published commits never become unpublished, so a positive answer can be cached.
  private readonly published = new Set<string>();
  // Commit files are immutable (their id hashes their bytes): parsed operations are cached too.
  private readonly operations = new Map<string, Map<string, CommitOperation>>();
  // Verified commits proved for `operationFor` (see src/model/commit-scan.ts), oldest first, and their bytes in all.
  private readonly proved = new Map<string, ProvedCommit>();
  private provedBytes = 0;
  // Reads in progress, so concurrent callers share one.
  private readonly proving = new Map<string, Promise<ProvedCommit | 'parsed' | null>>();

  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
  ) {}

  pathOf(commitId: string): string {
    return join(this.layout.commits, `${commitId}${SUFFIX}`);
  }

  async isPublished(commitId: string): Promise<boolean> {
    if (this.published.has(commitId)) return true;
    try {
      await this.fs.stat(this.pathOf(commitId));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
    this.published.add(commitId);
    return true;
  }

  /** Encodes a commit and derives its id; nothing is written here. */
  prepare(record: CommitRecord): { id: string; bytes: Buffer } {
    const bytes = encodeRecord(record);
    return { id: commitIdOf(record, bytes), bytes };
  }

  /**
   * The commit point: renames the commit's fsynced bytes (its publish record,
   * see staging.ts) into `commits/`; the caller fsyncs `commits/`.
   */
  async publish(id: string, written: string): Promise<void> {
    await this.fs.rename(written, this.pathOf(id));
    this.published.add(id);
  }

  /**
   * Records the newest commit in the local head cache, which finds the parent
   * of the next commit without listing the whole log; losing or tearing it
   * only costs a listing, so it is neither atomic nor fsynced.
   */
  async writeHead(id: string): Promise<void> {
    try {
      // Commit ids have a fixed length, so the new id overwrites the old one
      // in place: no truncation, which on some file systems forces a flush.
      const handle = await this.fs.open(this.layout.head, 'r+').catch(() => this.fs.open(this.layout.head, 'w'));
      try {
        await handle.write(`${id}\n`, 0);
      } finally {
        await handle.close();
      }
    } catch {
      // Only a cache: the next commit lists the log instead.
    }
  }

  /**
   * The operation a published commit lists for `fullKey` (undefined when it
   * lists none), or null when its file does not exist. The bytes are always
   * checked against the commit id when read; then their layout is proved
   * (see src/model/commit-scan.ts), so that a lookup finds and parses one
   * operation's lines and answers as a whole parse would. A file whose
   * layout cannot be proved is parsed whole and its operations cached.
   */
  async operationFor(commitId: string, fullKey: string): Promise<CommitOperation | undefined | null> {
    const parsed = this.operations.get(commitId);
    if (parsed !== undefined) return parsed.get(fullKey);
    const proved = this.proved.get(commitId) ?? (await this.readProved(commitId));
    if (proved === null) return null;
    if (proved !== 'parsed') return findOperation(proved, fullKey);
    return this.operations.get(commitId)!.get(fullKey);
  }

  /** Reads, verifies and proves a commit (or parses it whole, when its layout cannot be proved); null when its file does not exist. */
  private readProved(commitId: string): Promise<ProvedCommit | 'parsed' | null> {
    let proving = this.proving.get(commitId);
    if (proving === undefined) {
      proving = (async () => {
        const path = this.pathOf(commitId);
        const bytes = await readFileIfExists(this.fs, path);
        if (bytes === null) return null;
        verifyCommitHash(bytes, commitId, path);
        this.published.add(commitId);
        const proved = proveCommit(bytes);
        if (proved === null) {
          this.operations.set(commitId, operationsByFullKey(parseVerifiedCommitRecord(bytes, path)));
          return 'parsed' as const;
        }
        this.keepProved(commitId, proved);
        return proved;
      })().finally(() => this.proving.delete(commitId));
      this.proving.set(commitId, proving);
    }
    return proving;
  }

  private keepProved(commitId: string, proved: ProvedCommit): void {
    this.proved.set(commitId, proved);
    this.provedBytes += proved.bytes.length;
    for (const [oldest, { bytes }] of this.proved) {
      if (this.provedBytes <= PROVED_BYTES_KEPT || oldest === commitId) break;
      this.proved.delete(oldest);
      this.provedBytes -= bytes.length;
    }
  }

  async read(commitId: string): Promise<CommitRecord> {
    const path = this.pathOf(commitId);
    const bytes = await readFileIfExists(this.fs, path);
    if (bytes === null) throw new IntegrityError(`commit ${commitId} is missing (${path})`, { path });
    return parseCommitRecord(bytes, commitId, path);
  }

  /** Commit ids, newest first. */
  async list(): Promise<string[]> {
    const names = await readdirIfExists(this.fs, this.layout.commits);
    return names
      .filter((name) => name.endsWith(SUFFIX) && isCommitId(name.slice(0, -SUFFIX.length)))
      .map((name) => name.slice(0, -SUFFIX.length))
      .sort()
      .reverse();
  }

  /**
   * The newest commit, from the local head cache when it is valid and at
   * least as new as the commits directory, else from a listing. Commits that
   * arrive another way (a `git pull` or `git merge` of the store) change the
   * directory without touching the cache, so they are never missed as parents.
   */
  async head(): Promise<string | null> {
    const [cache, cacheStat, dirStat] = await Promise.all([
      readFileIfExists(this.fs, this.layout.head),
      this.fs.stat(this.layout.head).catch(() => null),
      this.fs.stat(this.layout.commits).catch(() => null),
    ]);
    const cached = cache?.toString('utf8').trim();
    const isCurrent = cacheStat !== null && dirStat !== null && cacheStat.mtimeMs >= dirStat.mtimeMs;
    if (isCurrent && cached && isCommitId(cached) && (await this.isPublished(cached))) return cached;
    return (await this.list())[0] ?? null;
  }
}

export function operationsByFullKey(record: CommitRecord): Map<string, CommitOperation> {
  return new Map(record.operations.map((op) => [op.fullKey, op]));
}

function verifyCommitHash(bytes: Buffer, commitId: string, path: string): void {
  if (commitContentHash(bytes) !== commitId.slice(-16)) {
    throw new IntegrityError(`commit ${path} does not match its id (torn or edited file)`, { path });
  }
}

export function parseCommitRecord(bytes: Buffer, commitId: string, path: string): CommitRecord {
  verifyCommitHash(bytes, commitId, path);
  return parseVerifiedCommitRecord(bytes, path);
}

/** `parseCommitRecord` of bytes already checked against their commit id. */
function parseVerifiedCommitRecord(bytes: Buffer, path: string): CommitRecord {
  if (bytes.length > constants.MAX_STRING_LENGTH) throw new IntegrityError(`commit ${path} is too large to read (${bytes.length} bytes)`, { path });
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new IntegrityError(`commit ${path} is not valid JSON`, { path });
  }
  const problem = commitRecordProblem(parsed);
  if (problem !== null) throw new IntegrityError(`commit ${path} ${problem}`, { path });
  return parsed as CommitRecord;
}
