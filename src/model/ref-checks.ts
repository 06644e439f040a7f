/**
 * Ref checks: what a reader learnt by checking a key's refs against the
 * commits that list them, kept under `local/checked/` so that the next
 * process need not read those commits again (see docs/FORMAT.md, "Ref
 * checks"). A commit of a 10,000-save transaction is some 2 MB, hashed
 * whole to verify its id; a key whose versions came from a hundred such
 * commits cost a fresh process 100 of them for one load.
 *
 * The file records, per full key, what its commit lists (commit id, checksum
 * and the version number no ref may fall below), and, per commit, the stat
 * identity of the commit file when it was checked. A ref read from disk (and
 * verified by its own digest, as always) is trusted without its commit when
 * the file lists the same full key, commit and checksum, a version no higher
 * than the ref's (settling only raises numbers), and the commit file still has
 * the identity recorded: any replacement or edit of it changes its inode,
 * size, mtime or ctime. Like git's index, this trusts stat data for files it
 * has already verified, so an identity is recorded only for a commit file
 * last changed well before it was checked (a change within the same
 * timestamp tick could otherwise go unseen). Pure shapes and rules; the I/O
 * is src/store/ref-checks.ts.
 *
 * The file may also hold copies of the key's ref files, bound to the stat
 * identity of the key's directory when they were listed: every way ae-state
 * or git changes the refs of a key (a save, retention, settling, a checkout,
 * merge or pull) adds, removes or renames a file in that directory, which
 * changes its mtime and ctime. While the directory keeps that identity, a
 * reader takes each listed ref's bytes from its copy instead of reading its
 * file (on a machine whose page cache no longer holds them, a disk read
 * each); each copy is still parsed and verified by its own digest as a ref
 * read from disk is, and checked against its commit (or vouched for) as
 * before.
 */
import { refFileTimestamp } from './keys.js';
import { isChecksum, isCommitId } from './records.js';

export const REF_CHECKS_FORMAT = 1;

/**
 * How long before a check a commit file must have last changed for its stat
 * identity to be recorded: far above any file system's timestamp tick, so a
 * later change always shows as a new mtime or ctime.
 */
export const RACY_MARGIN_MS = 2000;

/** What a commit lists for one full key: `[commit id, checksum, lowest version a ref may carry]`. */
export type CheckedOperation = [string, string, number];

export interface RefChecks {
  /** The key directory these checks are of. */
  dir: string;
  /** Full key → what its commit lists. */
  operations: Record<string, CheckedOperation>;
  /** Commit id → the stat identity of its file when checked (see `fileIdentity`). */
  commits: Record<string, string>;
  /** Copies of the key's ref files when they were listed (see the module comment); absent when there are none. */
  copies?: RefCopies;
}

export interface RefCopies {
  /** The stat identity of the key's directory (see `fileIdentity`) when its refs were listed. */
  identity: string;
  /** Every ref file name in the directory → the file's bytes, as UTF-8 text. */
  refs: Record<string, string>;
}

/** The parts of a file's stat that any replacement or edit of the file changes. */
export interface StatLike {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export function fileIdentity(stats: StatLike): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/** Whether a file checked from `checkedAtMs` on had last changed early enough for its identity to vouch for what was read. */
export function isIdentityTrustworthy(stats: StatLike, checkedAtMs: number): boolean {
  return Math.max(stats.mtimeMs, stats.ctimeMs) < checkedAtMs - RACY_MARGIN_MS;
}

/**
 * Whether `record` (a ref read from disk) agrees with what its commit listed
 * when checked, given the commit file's identity now (null: missing). False
 * when the checks do not vouch for it: the commit must be read.
 */
export function isVouchedFor(
  checks: RefChecks,
  record: { fullKey: string; commit: string; checksum: string; version: number },
  commitIdentity: string | null,
): boolean {
  const operation = checks.operations[record.fullKey];
  if (operation === undefined || commitIdentity === null) return false;
  const [commit, checksum, lowestVersion] = operation;
  return commit === record.commit && checksum === record.checksum && record.version >= lowestVersion && checks.commits[commit] === commitIdentity;
}

export function encodeRefChecks(checks: RefChecks): Buffer {
  return Buffer.from(`${JSON.stringify({ format: REF_CHECKS_FORMAT, ...checks })}\n`);
}

/**
 * Parses a ref checks file of key directory `dir`; null for anything else
 * (torn by a crash, another format, another directory's, edited): the
 * checks are then made again from the commits, never trusted in part.
 */
export function decodeRefChecks(bytes: Buffer, dir: string): RefChecks | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(parsed) || parsed.format !== REF_CHECKS_FORMAT || parsed.dir !== dir) return null;
  const { operations, commits, copies } = parsed;
  if (!isObject(operations) || !isObject(commits)) return null;
  if (copies !== undefined && !isRefCopies(copies)) return null;
  for (const [id, identity] of Object.entries(commits)) {
    if (!isCommitId(id) || typeof identity !== 'string') return null;
  }
  for (const operation of Object.values(operations)) {
    if (!isCheckedOperation(operation) || !(operation[0] in commits)) return null;
  }
  const checks: RefChecks = { dir, operations: operations as Record<string, CheckedOperation>, commits: commits as Record<string, string> };
  if (copies !== undefined) checks.copies = copies;
  return checks;
}

function isRefCopies(value: unknown): value is RefCopies {
  if (!isObject(value) || typeof value.identity !== 'string' || !isObject(value.refs)) return false;
  return Object.entries(value.refs).every(([name, text]) => refFileTimestamp(name) !== null && typeof text === 'string');
}

function isCheckedOperation(value: unknown): value is CheckedOperation {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    isCommitId(value[0]) &&
    isChecksum(value[1]) &&
    Number.isSafeInteger(value[2]) &&
    (value[2] as number) >= 1
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
