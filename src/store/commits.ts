/**
 * The commit log: one file per published commit at `commits/<commit id>.json`.
 * Renaming a commit file into place is the instant a commit (one save or a
 * whole transaction) becomes visible: every ref it publishes was made durable
 * before, and a ref whose commit file does not exist is ignored by readers.
 */
import { constants } from 'node:buffer';
import { join } from 'node:path';
import { IntegrityError } from '../errors.js';
import { decodeCommitHead, encodeCommit } from '../model/commit-parts.js';
import { commitIdOf, commitRecordProblem, isCommitId, type CommitOperation, type CommitRecord } from '../model/records.js';
import { findOperation, proveCommit, type ProvedCommit } from '../model/commit-scan.js';
import { operationInParts, parseInParts, readCommitFirst, tooLarge, verifyCommitHash, type PartedCommit } from './commit-reads.js';
import { isErrno, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';

const SUFFIX = '.json';
// Bytes of commits kept for lookups (proved commits, and the heads and
// verified parts of commits in parts); past it the oldest are dropped (and
// read and verified again when next needed). Off the heap, as Buffers, so
// they cost the garbage collector nothing.
const KEPT_BYTES = 256 * 1024 * 1024;
type KeptCommit = ProvedCommit | PartedCommit;

function keptBytesOf(commit: KeptCommit): number {
  return 'head' in commit ? commit.keptBytes : commit.bytes.length;
}

export class CommitLog {
  // Published commits never become unpublished, so a positive answer can be cached.
  private readonly published = new Set<string>();
  // Commit files are immutable (their id hashes their bytes): parsed operations are cached too.
  private readonly operations = new Map<string, Map<string, CommitOperation>>();
  // Verified commits kept for `operationFor` (see src/model/commit-scan.ts and commit-parts.ts), oldest first, and their bytes in all.
  private readonly kept = new Map<string, KeptCommit>();
  private keptBytes = 0;
  // Reads in progress, so concurrent callers share one.
  private readonly loading = new Map<string, Promise<KeptCommit | 'parsed' | null>>();

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
    const { bytes, hashed } = encodeCommit(record);
    return { id: commitIdOf(record, hashed), bytes };
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
   * checked against the commit id when read. A commit in parts
   * (src/model/commit-parts.ts) has its head and the one part that would
   * hold the key read and verified. Any other commit is read whole and its
   * layout proved (see src/model/commit-scan.ts), so that a lookup finds and
   * parses one operation's lines and answers as a whole parse would; a file
   * whose layout cannot be proved is parsed whole and its operations cached.
   */
  async operationFor(commitId: string, fullKey: string): Promise<CommitOperation | undefined | null> {
    const parsed = this.operations.get(commitId);
    if (parsed !== undefined) return parsed.get(fullKey);
    const kept = this.kept.get(commitId) ?? (await this.load(commitId, fullKey));
    if (kept === null) return null;
    if (kept === 'parsed') return this.operations.get(commitId)!.get(fullKey);
    if ('head' in kept) return operationInParts(this.fs, this.pathOf(commitId), commitId, kept, fullKey, (bytes) => this.grew(commitId, kept, bytes));
    return findOperation(kept, fullKey);
  }

  /**
   * Reads and verifies a commit: the head of a commit in parts (with the
   * part that would hold `fullKey`, read on the same descriptor), or the
   * whole of any other, proved (or parsed whole, when its layout cannot be
   * proved); null when its file does not exist.
   */
  private load(commitId: string, fullKey: string): Promise<KeptCommit | 'parsed' | null> {
    let loading = this.loading.get(commitId);
    if (loading === undefined) {
      loading = this.readAndVerify(commitId, fullKey).finally(() => this.loading.delete(commitId));
      this.loading.set(commitId, loading);
    }
    return loading;
  }

  private async readAndVerify(commitId: string, fullKey: string): Promise<KeptCommit | 'parsed' | null> {
    const path = this.pathOf(commitId);
    const first = await readCommitFirst(this.fs, path, commitId, fullKey);
    if (first === null) return null;
    let kept: KeptCommit | 'parsed';
    if (first.kind === 'parts') {
      kept = first.commit;
    } else {
      verifyCommitHash(first.whole, commitId, path);
      const proved = proveCommit(first.whole);
      if (proved === null) this.operations.set(commitId, operationsByFullKey(parseVerifiedCommitRecord(first.whole, path)));
      kept = proved ?? 'parsed';
    }
    this.published.add(commitId);
    if (kept !== 'parsed') this.keep(commitId, kept);
    return kept;
  }

  /** Counts `bytes` more kept for `commit`, when it is kept, and drops the oldest others when past the bound. */
  private grew(commitId: string, commit: KeptCommit, bytes: number): void {
    if (this.kept.get(commitId) !== commit) return;
    this.keptBytes += bytes;
    this.dropOldest(commitId);
  }

  private keep(commitId: string, commit: KeptCommit): void {
    this.kept.set(commitId, commit);
    this.keptBytes += keptBytesOf(commit);
    this.dropOldest(commitId);
  }

  /** Drops the oldest kept commits but `commitId` until what is kept is within its bound. */
  private dropOldest(commitId: string): void {
    for (const [oldest, dropped] of this.kept) {
      if (this.keptBytes <= KEPT_BYTES) break;
      if (oldest === commitId) continue;
      this.kept.delete(oldest);
      this.keptBytes -= keptBytesOf(dropped);
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

/** Parses and checks a whole commit file, in either layout (src/model/commit-parts.ts), against its id. */
export function parseCommitRecord(bytes: Buffer, commitId: string, path: string): CommitRecord {
  const head = decodeCommitHead(bytes);
  if (head !== null) return parseInParts(bytes, head, commitId, path);
  verifyCommitHash(bytes, commitId, path);
  return parseVerifiedCommitRecord(bytes, path);
}

/** `parseCommitRecord` of bytes not in parts already checked against their commit id. */
function parseVerifiedCommitRecord(bytes: Buffer, path: string): CommitRecord {
  if (bytes.length > constants.MAX_STRING_LENGTH) throw tooLarge(path, bytes.length);
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
