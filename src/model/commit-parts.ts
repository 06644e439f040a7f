/**
 * Commits in parts: the layout of a large commit that lets a reader verify
 * the one operation it needs without hashing the whole file.
 *
 * A commit id hashes the commit's bytes, so checking one version record
 * against a transaction's commit of 10,000 operations (about 2 MB) meant
 * reading and hashing all of it; a key whose versions came from a hundred
 * such commits cost a machine's first read of it a hundred times that. A
 * commit of more than `PARTS_ABOVE` operations with distinct full keys is
 * therefore written with its operations sorted by full key and cut into
 * parts of `OPERATIONS_PER_PART`; the record's `parts` field, before
 * `operations`, lists for each part its count, first full key, length in
 * bytes and sha256. The commit id hashes only the head (the file up to and
 * including `"operations": [`), which holds those digests, so the head
 * verifies every part and a reader checks the head and one part. The file
 * is still exactly `JSON.stringify(record, null, 2)` plus a newline.
 *
 * The layout is recognised only when the bytes are exactly what
 * `encodeCommit` writes for the record they decode to (head, parts and
 * tail), so one file never verifies two ways: any other file with a `parts`
 * field is refused (see `commitRecordProblem`).
 */
import { createHash } from 'node:crypto';
import { arePartKeysAscending, partKey, scanPartKeys } from './commit-scan.js';
import { commitRecordProblem, encodeRecord, isChecksum, type CommitOperation, type CommitRecord } from './records.js';

/** Commits of more operations than this (with distinct full keys) are written in parts. */
export const PARTS_ABOVE = 256;
/** Operations in each part but the last, which holds the rest (1 to this many). */
export const OPERATIONS_PER_PART = 128;

const LIST_OPENING = '\n  "operations": [';
const PARTS_OPENING = '\n  "parts": [';
const TAIL = Buffer.from('\n  ]\n}\n');
const BLOCK_END = '\n    }';

/** One entry of a commit's `parts`. */
export interface CommitPart {
  operations: number;
  /** The first full key of the part; the parts' ranges never overlap. */
  first: string;
  bytes: number;
  /** sha256 (hex) of the part's bytes. */
  digest: string;
}

/** A verified head of a commit in parts, and where each part lies in the file. */
export interface CommitHead {
  /** The record without its operations (`operations` empty). */
  record: CommitRecord;
  parts: CommitPart[];
  /** Where each part begins in the file. */
  offsets: number[];
  /** The head's length: the bytes the commit id hashes. */
  length: number;
  /** The whole file's length: head, parts and tail. */
  fileLength: number;
}

export interface EncodedCommit {
  bytes: Buffer;
  /** The bytes the commit id's hash covers: the whole file, or a commit in parts' head. */
  hashed: Buffer;
}

/** The canonical bytes of a commit, in parts when it qualifies (see the module comment). */
export function encodeCommit(record: CommitRecord): EncodedCommit {
  if (!isWrittenInParts(record.operations)) {
    const bytes = encodeRecord(record);
    return { bytes, hashed: bytes };
  }
  const operations = [...record.operations].sort((a, b) => compareKeys(a.fullKey, b.fullKey));
  const parts: CommitPart[] = [];
  const partBytes: Buffer[] = [];
  for (let from = 0; from < operations.length; from += OPERATIONS_PER_PART) {
    const slice = operations.slice(from, from + OPERATIONS_PER_PART);
    const bytes = encodePart(slice, from === 0);
    partBytes.push(bytes);
    parts.push({ operations: slice.length, first: slice[0]!.fullKey, bytes: bytes.length, digest: sha256(bytes) });
  }
  const head = encodeHead(record, parts);
  return { bytes: Buffer.concat([head, ...partBytes, TAIL]), hashed: head };
}

/** Whether `encodeCommit` writes these operations in parts. */
function isWrittenInParts(operations: CommitOperation[]): boolean {
  return operations.length > PARTS_ABOVE && new Set(operations.map((op) => op.fullKey)).size === operations.length;
}

/** Code-unit order, as the parts' `first` keys are compared. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The head: the record's encoding, fields in the order the layout fixes, cut just after the list's opening bracket. */
function encodeHead(record: CommitRecord, parts: CommitPart[]): Buffer {
  return Buffer.from(encodeHeadText(record, parts), 'utf8');
}

function encodeHeadText(record: CommitRecord, parts: CommitPart[]): string {
  const head: Record<string, unknown> = {
    format: record.format,
    parent: record.parent,
    time: record.time,
    message: record.message,
    transaction: record.transaction,
  };
  if (record.git !== undefined) head.git = record.git;
  head.parts = parts.map(({ operations, first, bytes, digest }) => ({ operations, first, bytes, digest }));
  head.operations = [];
  // What `encodeRecord` writes, as text: `"operations": []` then `\n}\n` close it; keep up to the `[`.
  const text = `${JSON.stringify(head, null, 2)}\n`;
  return text.slice(0, text.length - ']\n}\n'.length);
}

/**
 * A part's bytes: its operations as they appear in the record's list, each
 * after a comma but the list's very first, so the parts concatenated are the list.
 */
function encodePart(operations: CommitOperation[], isFirst: boolean): Buffer {
  // What `JSON.stringify(record, null, 2)` writes for each operation in the list, field by field.
  const blocks = operations.map(({ fullKey, logicalKey, version, checksum }, i) => {
    const fields = `"fullKey": ${JSON.stringify(fullKey)},\n      "logicalKey": ${JSON.stringify(logicalKey)},\n      "version": ${JSON.stringify(version)},\n      "checksum": ${JSON.stringify(checksum)}`;
    return `${isFirst && i === 0 ? '' : ','}\n    {\n      ${fields}\n    }`;
  });
  return Buffer.from(blocks.join(''), 'utf8');
}

/**
 * The head of a commit in parts, verified to be exactly what `encodeCommit`
 * writes, from the file's first bytes (at least the head); null when the
 * bytes do not begin with such a head (the commit is then read as one
 * piece, and refused there if it has `parts`). Throws nothing: the id check
 * and each part's checks follow.
 */
export function decodeCommitHead(start: Buffer): CommitHead | null {
  const opening = start.indexOf(LIST_OPENING);
  if (opening < 0) return null;
  // Most commits have no parts: they are told apart without a parse.
  if (start.subarray(0, opening).indexOf(PARTS_OPENING) < 0) return null;
  const length = opening + LIST_OPENING.length;
  const text = start.toString('utf8', 0, length);
  let parsed: unknown;
  try {
    parsed = JSON.parse(`${text}]\n}`);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || !('parts' in parsed)) return null;
  const { parts, ...rest } = parsed as { parts: unknown } & Record<string, unknown>;
  const record = rest as unknown as CommitRecord;
  if (commitRecordProblem(record) !== null || record.operations.length !== 0 || !isPartList(parts)) return null;
  // Compared as text, which is the same as comparing bytes when they decoded without a replacement
  // character (any byte that is not UTF-8 decodes to U+FFFD); else as bytes.
  const encoded = encodeHeadText(record, parts);
  if (text.includes('\ufffd') ? !Buffer.from(encoded, 'utf8').equals(start.subarray(0, length)) : encoded !== text) return null;
  const offsets: number[] = [];
  let at = length;
  for (const part of parts) {
    offsets.push(at);
    at += part.bytes;
  }
  return { record, parts, offsets, length, fileLength: at + TAIL.length };
}

/** Whether `value` is a part list `encodeCommit` could have written: more than `PARTS_ABOVE` operations, full parts but the last, first keys ascending. */
function isPartList(value: unknown): value is CommitPart[] {
  if (!Array.isArray(value)) return false;
  const total = value.reduce((sum: number, part: Partial<CommitPart> | null) => sum + (typeof part?.operations === 'number' ? part.operations : 0), 0);
  if (total <= PARTS_ABOVE) return false;
  return value.every((part: Partial<CommitPart> | null, i) => {
    if (part === null || typeof part !== 'object') return false;
    const isLast = i === value.length - 1;
    return (
      Number.isSafeInteger(part.operations) &&
      part.operations! >= 1 &&
      (isLast ? part.operations! <= OPERATIONS_PER_PART : part.operations === OPERATIONS_PER_PART) &&
      typeof part.first === 'string' &&
      (i === 0 || compareKeys((value[i - 1] as CommitPart).first, part.first) < 0) &&
      Number.isSafeInteger(part.bytes) &&
      part.bytes! > 0 &&
      isChecksum(part.digest)
    );
  });
}

/** Whether a commit file's bytes have a `parts` field before their operations (in any layout): to say why a file is refused. */
export function hasPartsField(bytes: Buffer): boolean {
  const parts = bytes.indexOf(PARTS_OPENING);
  if (parts < 0) return false;
  const list = bytes.indexOf(LIST_OPENING);
  return list < 0 || parts < list;
}

/** Whether `start`, a file's first bytes, begins a head in parts that goes on past them (the list's opening is not there yet). */
export function isHeadCutShort(start: Buffer): boolean {
  const parts = start.indexOf(PARTS_OPENING);
  return parts >= 0 && start.indexOf(LIST_OPENING, parts) < 0;
}

/** Whether the file's last bytes are the tail the layout ends with. */
export function isCommitTail(bytes: Buffer): boolean {
  return bytes.equals(TAIL);
}

export const COMMIT_TAIL_LENGTH = TAIL.length;

/**
 * Why part `n` of a verified head is not the part the head names, or null
 * when it is: its length and sha256 as the head gives them, and its bytes
 * exactly what `encodeCommit` writes for the operations they hold (each
 * operation valid, as many as the head says, full keys strictly ascending,
 * the first the head's `first`, the last below the next part's `first`).
 */
export function commitPartProblem(head: CommitHead, n: number, bytes: Buffer): string | null {
  const part = head.parts[n]!;
  if (bytes.length !== part.bytes || sha256(bytes) !== part.digest) return `part ${n} does not match its digest`;
  const keys = scanPartKeys(bytes, n === 0);
  if (keys === null) return `part ${n} is not a list of operations laid out as the store writes them`;
  const count = keys.starts.length;
  if (count !== part.operations) return `part ${n} does not hold ${part.operations} operations`;
  if (partKey(bytes, keys, 0) !== part.first) return `part ${n} does not begin with ${JSON.stringify(part.first)}`;
  if (!arePartKeysAscending(bytes, keys)) return `part ${n} is not in full key order`;
  const next = head.parts[n + 1]?.first;
  if (next !== undefined && compareKeys(partKey(bytes, keys, count - 1), next) >= 0) return `part ${n} reaches into part ${n + 1}`;
  return null;
}

/** The operations of part `n` of a verified head, or why the bytes are not that part (see `commitPartProblem`). */
export function decodeCommitPart(head: CommitHead, n: number, bytes: Buffer): CommitOperation[] | string {
  const problem = commitPartProblem(head, n, bytes);
  if (problem !== null) return problem;
  return JSON.parse(`[${bytes.toString('utf8', n === 0 ? 0 : 1)}]`) as CommitOperation[];
}

/** The part of a verified head that would hold `fullKey`, or -1 when it sorts before every part. */
export function partHolding(head: CommitHead, fullKey: string): number {
  let low = 0;
  let high = head.parts.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(head.parts[middle]!.first, fullKey) <= 0) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

/**
 * The operation for `fullKey` in a part verified by `decodeCommitPart`, or
 * undefined. The part is exactly what `encodePart` writes, so its full keys
 * are written as `JSON.stringify` writes them and a raw newline is always
 * structure: the key's opening line is found by its bytes, once at most.
 */
export function findOperationInPart(part: Buffer, fullKey: string): CommitOperation | undefined {
  const at = part.indexOf(`\n    {\n      "fullKey": ${JSON.stringify(fullKey)},`, 0, 'utf8');
  if (at < 0) return undefined;
  const end = part.indexOf(BLOCK_END, at) + BLOCK_END.length;
  return JSON.parse(part.toString('utf8', at, end)) as CommitOperation;
}
