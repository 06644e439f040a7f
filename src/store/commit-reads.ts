/**
 * Reading commits a piece at a time. A commit in parts
 * (src/model/commit-parts.ts, FORMAT.md "Commits in parts") is first read
 * as its head and tail, checked against the commit id; a lookup then reads
 * and checks the one part that would hold its full key, and keeps it. Any
 * other commit is read whole, and the caller checks it.
 */
import { constants } from 'node:buffer';
import { IntegrityError } from '../errors.js';
import {
  COMMIT_TAIL_LENGTH,
  commitPartProblem,
  decodeCommitHead,
  decodeCommitPart,
  findOperationInPart,
  hasPartsField,
  isCommitTail,
  isHeadCutShort,
  partHolding,
  type CommitHead,
} from '../model/commit-parts.js';
import { commitContentHash, type CommitOperation, type CommitRecord } from '../model/records.js';
import { readFileIfExists, withPositionedReads, type StoreFs } from './fs.js';

// A commit's first read takes this much: all of most commits, and the head
// of a commit in parts of up to some 10,000 to 19,000 operations (the
// longer its keys, the fewer), whose head is otherwise read on.
const FIRST_READ_BYTES = 32 * 1024;
// Parts of one commit read one at a time before it is read whole (see
// `operationInParts`), and the largest commit read whole that way (a
// quarter of what the commit log keeps).
const PART_READS_BEFORE_WHOLE = 8;
const MAX_WHOLE_BYTES = 64 * 1024 * 1024;
// The longest head read to find where it ends (that of some 10,000,000 operations).
const MAX_HEAD_BYTES = 64 * 1024 * 1024;
// The longest part a first read takes with the head, before the head is checked (a part is some 25 KB).
const MAX_PART_WITH_HEAD = 1024 * 1024;

/** A commit in parts whose head was verified against its id, and the parts verified since (src/model/commit-parts.ts). */
export interface PartedCommit {
  head: CommitHead;
  /** Each verified part's bytes, by part number. */
  parts: Map<number, Buffer>;
  /** The whole file, when its first read took all of it or it was read whole later. */
  whole: Buffer | null;
  /** Parts read from the file one at a time and verified. */
  partReads: number;
  keptBytes: number;
  /** Reads under way, shared by concurrent lookups. */
  reading: Map<number, Promise<Buffer>>;
  readingWhole: Promise<void> | null;
  /** A part the first read took with the head, not yet checked: the first lookup of it checks it as if read then. */
  readWithHead: { n: number; bytes: Buffer } | null;
}

function newPartedCommit(head: CommitHead, whole: Buffer | null, readWithHead: PartedCommit['readWithHead'] = null): PartedCommit {
  // A part taken with the head is counted from the start: it is held until looked up.
  const keptBytes = whole === null ? head.length + (readWithHead?.bytes.length ?? 0) : whole.length;
  return { head, parts: new Map(), whole, partReads: 0, keptBytes, reading: new Map(), readingWhole: null, readWithHead };
}

/** What a commit's first read found: a commit in one piece, read whole, or a commit in parts whose head (and end) checked out. */
export type FirstRead = { kind: 'whole'; whole: Buffer } | { kind: 'parts'; commit: PartedCommit };

/**
 * A commit's first read: of a commit in parts, its head and tail only,
 * checked against the id (or all of it, when it fits in the first read),
 * and the part that would hold `fullKey`, when given, on the same
 * descriptor (checked when looked up); of any other commit, the whole
 * file, not yet checked. Null when the file does not exist.
 */
export async function readCommitFirst(fs: StoreFs, path: string, commitId: string, fullKey?: string): Promise<FirstRead | null> {
  type Read =
    | { whole: Buffer; head?: undefined }
    | { whole?: undefined; head: CommitHead; start: Buffer; tail: Buffer | null; readWithHead: PartedCommit['readWithHead'] };
  const first = await withPositionedReads(fs, path, async (read, stats): Promise<Read> => {
    let start = await read(0, Math.min(stats.size, FIRST_READ_BYTES));
    // The head of a commit of tens of thousands of operations is longer than the first read: read on until it ends.
    while (start.length < stats.size && start.length < MAX_HEAD_BYTES && isHeadCutShort(start)) {
      start = Buffer.concat([start, await read(start.length, Math.min(stats.size, start.length * 4) - start.length)]);
    }
    const head = start.length < stats.size ? decodeCommitHead(start) : null;
    if (head === null) {
      if (start.length === stats.size) return { whole: start };
      // In one piece: the rest of it, on the same descriptor. Past the longest string it could not be parsed whole.
      if (stats.size > constants.MAX_STRING_LENGTH) throw tooLarge(path, stats.size);
      return { whole: Buffer.concat([start, await read(start.length, stats.size - start.length)]) };
    }
    // In parts: the head now, and the tail, to check where the file ends; each part when a lookup needs it.
    const tail = head.fileLength === stats.size ? await read(stats.size - COMMIT_TAIL_LENGTH, COMMIT_TAIL_LENGTH) : null;
    const n = fullKey === undefined || tail === null ? -1 : partHolding(head, fullKey);
    // Within the file (its length is the head's), and small: the head is not checked yet.
    const isTaken = n >= 0 && head.parts[n]!.bytes <= MAX_PART_WITH_HEAD;
    const readWithHead = isTaken ? { n, bytes: await read(head.offsets[n]!, head.parts[n]!.bytes) } : null;
    return { head, start, tail, readWithHead };
  });
  if (first === null) return null;
  if (first.head !== undefined) {
    verifyHeadAndEnd(first.head, first.start, first.tail, commitId, path);
    return { kind: 'parts', commit: newPartedCommit(first.head, null, first.readWithHead) };
  }
  const head = decodeCommitHead(first.whole);
  if (head === null) return { kind: 'whole', whole: first.whole };
  verifyHeadAndEnd(head, first.whole, tailOf(first.whole, head), commitId, path);
  return { kind: 'parts', commit: newPartedCommit(head, first.whole) };
}

/**
 * The operation for `fullKey` in a commit in parts, reading and verifying
 * the part that would hold it when it is not kept yet. A commit of which
 * `PART_READS_BEFORE_WHOLE` parts were read one by one is read whole at
 * its next miss (when it is at most `MAX_WHOLE_BYTES`), every part
 * verified and kept, as a commit in one piece is: a process reading key
 * after key (a listing of each of a hundred keys' versions) would
 * otherwise read and check a new part of each of a hundred commits for
 * every key.
 */
export async function operationInParts(
  fs: StoreFs,
  path: string,
  commitId: string,
  commit: PartedCommit,
  fullKey: string,
  grew: (bytes: number) => void,
): Promise<CommitOperation | undefined> {
  const n = partHolding(commit.head, fullKey);
  if (n < 0) return undefined;
  let part = commit.parts.get(n);
  if (part === undefined) {
    if (commit.whole === null && commit.partReads >= PART_READS_BEFORE_WHOLE && commit.head.fileLength <= MAX_WHOLE_BYTES) {
      commit.readingWhole ??= readWhole(fs, path, commitId, commit, grew).finally(() => (commit.readingWhole = null));
      await commit.readingWhole;
    }
    part = commit.parts.get(n);
    if (part === undefined) {
      // Concurrent lookups in one part share its read.
      let reading = commit.reading.get(n);
      if (reading === undefined) {
        reading = readPart(fs, path, commit, n, grew).finally(() => commit.reading.delete(n));
        commit.reading.set(n, reading);
      }
      part = await reading;
    }
  }
  return findOperationInPart(part, fullKey);
}

/** Reads part `n` of a commit in parts (from the whole file when it is held), verifies it and keeps it. */
async function readPart(fs: StoreFs, path: string, commit: PartedCommit, n: number, grew: (bytes: number) => void): Promise<Buffer> {
  const position = commit.head.offsets[n]!;
  const length = commit.head.parts[n]!.bytes;
  const withHead = commit.readWithHead?.n === n ? commit.readWithHead.bytes : undefined;
  if (withHead !== undefined) commit.readWithHead = null;
  const bytes = commit.whole?.subarray(position, position + length) ?? withHead ?? (await withPositionedReads(fs, path, (read) => read(position, length)));
  if (bytes === null) throw new IntegrityError(`commit ${path} is gone while being read`, { path });
  const problem = commitPartProblem(commit.head, n, bytes);
  const kept = commit.parts.get(n);
  if (withHead !== undefined && (problem !== null || kept !== undefined || commit.whole !== null)) {
    // Counted since the first read (and not by a whole read since), but not kept after all.
    if (commit.whole === null) {
      commit.keptBytes -= withHead.length;
      grew(-withHead.length);
    }
  }
  if (problem !== null) throw new IntegrityError(`commit ${path} ${problem} (torn or edited file)`, { path });
  // Read whole meanwhile: the whole file's view of the part is kept.
  if (kept !== undefined) return kept;
  commit.parts.set(n, bytes);
  // A part of a whole file held is a view of it, which costs nothing more.
  if (commit.whole === null) {
    commit.partReads++;
    if (withHead === undefined) {
      commit.keptBytes += bytes.length;
      grew(bytes.length);
    }
  }
  return bytes;
}

/** Reads a commit in parts whole, checks it against its verified head and every part against the head, and keeps it whole with the parts that verify. */
async function readWhole(fs: StoreFs, path: string, commitId: string, commit: PartedCommit, grew: (bytes: number) => void): Promise<void> {
  const bytes = await readFileIfExists(fs, path);
  if (bytes === null) throw new IntegrityError(`commit ${path} is gone while being read`, { path });
  // Bytes that match the id begin with the very head verified before.
  verifyHeadAndEnd(commit.head, bytes, tailOf(bytes, commit.head), commitId, path);
  // A damaged part is left out: a lookup there checks it again and fails, as before; the others still answer.
  const parts = new Map<number, Buffer>();
  for (let n = 0; n < commit.head.parts.length; n++) {
    const part = bytes.subarray(commit.head.offsets[n]!, commit.head.offsets[n]! + commit.head.parts[n]!.bytes);
    if (commitPartProblem(commit.head, n, part) === null) parts.set(n, part);
  }
  const grown = bytes.length - commit.keptBytes;
  commit.readWithHead = null;
  commit.whole = bytes;
  commit.parts = parts;
  commit.keptBytes = bytes.length;
  grew(grown);
}

export function tooLarge(path: string, size: number): IntegrityError {
  return new IntegrityError(`commit ${path} is too large to read (${size} bytes)`, { path });
}

export function verifyCommitHash(bytes: Buffer, commitId: string, path: string): void {
  if (commitContentHash(bytes) === commitId.slice(-16)) return;
  // Its head may match the id, but its parts are not what a writer writes (FORMAT.md "Commits in parts").
  const why = hasPartsField(bytes) ? 'lists parts not as the store writes them, or does not match its id' : 'does not match its id';
  throw new IntegrityError(`commit ${path} ${why} (torn or edited file)`, { path });
}

function tornCommit(path: string): IntegrityError {
  return new IntegrityError(`commit ${path} does not end where its parts do (torn or edited file)`, { path });
}

/** The last bytes of a whole file, where the tail of the commit in parts `head` must be; null when the file's length is not the head's. */
function tailOf(bytes: Buffer, head: CommitHead): Buffer | null {
  return bytes.length === head.fileLength ? bytes.subarray(head.fileLength - COMMIT_TAIL_LENGTH) : null;
}

/**
 * Checks a commit in parts' head (decoded from `start`, the file's first
 * bytes) against the commit id, and its file's end; each part is checked
 * against the head when read.
 */
function verifyHeadAndEnd(head: CommitHead, start: Buffer, tail: Buffer | null, commitId: string, path: string): void {
  verifyCommitHash(start.subarray(0, head.length), commitId, path);
  if (tail === null || !isCommitTail(tail)) throw tornCommit(path);
}

/** Reads a whole commit file in parts: the head against the id, the tail, then every part against the head. */
export function parseInParts(bytes: Buffer, head: CommitHead, commitId: string, path: string): CommitRecord {
  verifyHeadAndEnd(head, bytes, tailOf(bytes, head), commitId, path);
  const operations: CommitOperation[] = [];
  for (let n = 0; n < head.parts.length; n++) {
    const part = decodeCommitPart(head, n, bytes.subarray(head.offsets[n]!, head.offsets[n]! + head.parts[n]!.bytes));
    if (typeof part === 'string') throw new IntegrityError(`commit ${path} ${part} (torn or edited file)`, { path });
    operations.push(...part);
  }
  return { ...head.record, operations };
}
