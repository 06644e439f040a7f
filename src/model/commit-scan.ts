/**
 * Finds one operation in the bytes of a commit in one piece without parsing
 * the whole file. Large commits are now written in parts
 * (commit-parts.ts), but a store written before parts holds transactions'
 * commits in one piece (10,000 operations, about 2 MB), and a key's versions
 * are spread over as many commits as it has versions, so parsing each of
 * them whole to check one ref made the first read of a key in a process
 * grow with the size of every commit it touches.
 *
 * The caller has already checked the bytes against the commit id (their
 * hash), so they are exactly what was written, but not that the store wrote
 * them: a clone can carry any file under a matching name. So lookups are
 * made only in a file proved to be what `parseCommitRecord` accepts (one
 * pass over the list, and a parse of the few lines around it), listing
 * exactly the operations found: the layout `encodeRecord` writes
 * (two-space indentation, one field per line), with `operations` a list of
 * blocks that each hold the four fields of an operation, in order, each
 * value checked as the record validator checks it, and everything around
 * that list a record the validator accepts. A file in any other layout is
 * not proved, and the caller parses it whole. Either way a lookup answers
 * what a whole parse answers.
 */
import { constants } from 'node:buffer';
import { commitRecordProblem, type CommitOperation } from './records.js';

const LIST_START = Buffer.from('\n  "operations": [');
const BLOCK_START = Buffer.from('\n    {\n      "fullKey": ');
const LOGICAL_KEY = Buffer.from(',\n      "logicalKey": ');
const VERSION = Buffer.from(',\n      "version": ');
const CHECKSUM = Buffer.from(',\n      "checksum": "');
const BLOCK_END = Buffer.from('"\n    }');
const LIST_END = Buffer.from('\n  ]');
const OPERATION_INDENT = '\n    '.length;
const MAX_OPERATIONS = 2 ** 20;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Lookups of a commit by search of its bytes before it gets its index. */
const SEARCHES_BEFORE_INDEX = 8;

/**
 * A commit file proved to be in the layout above, and where its operations
 * are. Most commits are consulted for one key or a few (the refs of a key
 * read once, each in its own commit), so a lookup first searches the list's
 * bytes for the key's opening line (native code, a fraction of a
 * millisecond for 2 MB); a commit looked up more often than
 * `SEARCHES_BEFORE_INDEX` times gets an index sorted by a hash of each full
 * key, so that a lookup costs a binary search and a small parse: a commit of
 * 10,000 operations parsed whole is some 10,000 objects on the heap, and a
 * process that reads keys spread over a hundred such commits kept a million
 * of them.
 */
export interface ProvedCommit {
  bytes: Buffer;
  /** The list: from the first operation's opening to just past the last one's end. */
  listFrom: number;
  listTo: number;
  // Offsets fit: a file read whole is at most 2 GiB (Node's limit for readFile).
  /** Where operation n begins, and where its full key's literal ends. */
  starts: Uint32Array;
  keyEnds: Uint32Array;
  /** `hash * 2^20 + n` for each operation n, sorted; null until built. */
  index: Float64Array | null;
  searches: number;
}

/**
 * The commit's operations, proved, or null when the bytes are not in the
 * layout the scan proves (or list no operation, or more than 2^20): a
 * whole parse then decides, and refuses what the record validator refuses.
 */
export function proveCommit(bytes: Buffer): ProvedCommit | null {
  // A whole parse decodes the file to one string, and refuses a file longer than the longest
  // string; UTF-8 decodes to at most one UTF-16 unit a byte, so any file up to that length decodes.
  if (bytes.length > constants.MAX_STRING_LENGTH) return null;
  const listStart = bytes.indexOf(LIST_START);
  if (listStart < 0) return null;
  const starts: number[] = [];
  const keyEnds: number[] = [];
  let at = listStart + LIST_START.length;
  for (;;) {
    if (starts.length === MAX_OPERATIONS) return null;
    const block = scanBlock(bytes, at, false);
    if (block === null) return null;
    starts.push(at);
    keyEnds.push(block.fullKeyEnd);
    at = block.end;
    if (bytes[at] === COMMA) at++;
    else if (isAt(bytes, LIST_END, at)) break;
    else return null;
  }
  if (!isRecordAround(bytes, listStart + LIST_START.length - 1, at + LIST_END.length)) return null;
  return {
    bytes,
    listFrom: listStart + LIST_START.length,
    listTo: at,
    starts: Uint32Array.from(starts),
    keyEnds: Uint32Array.from(keyEnds),
    index: null,
    searches: 0,
  };
}

/**
 * The operation block at `at`, as the store writes one (its four fields in
 * order, one per line, each value valid: the full key as `JSON.stringify`
 * writes it, the logical key too when `isLogicalKeyCanonical` is asked for),
 * or null: where its full key's literal ends, and where the block ends.
 */
function scanBlock(bytes: Buffer, at: number, isLogicalKeyCanonical: boolean): { fullKeyEnd: number; end: number } | null {
  if (!isAt(bytes, BLOCK_START, at)) return null;
  const fullKeyEnd = plainLiteralEnd(bytes, at + BLOCK_START.length);
  if (fullKeyEnd < 0 || !isAt(bytes, LOGICAL_KEY, fullKeyEnd)) return null;
  const logicalKeyStart = fullKeyEnd + LOGICAL_KEY.length;
  const logicalKeyEnd = isLogicalKeyCanonical ? plainLiteralEnd(bytes, logicalKeyStart) : stringLiteralEnd(bytes, logicalKeyStart);
  if (logicalKeyEnd < 0 || !isAt(bytes, VERSION, logicalKeyEnd)) return null;
  const numberEnd = versionEnd(bytes, logicalKeyEnd + VERSION.length);
  if (numberEnd < 0 || !isAt(bytes, CHECKSUM, numberEnd)) return null;
  const checksumEnd = numberEnd + CHECKSUM.length + 64;
  if (!isLowerHex(bytes, numberEnd + CHECKSUM.length, checksumEnd) || !isAt(bytes, BLOCK_END, checksumEnd)) return null;
  return { fullKeyEnd, end: checksumEnd + BLOCK_END.length };
}

/** Where a part's full keys are: each key's literal without its quotes, `bytes[starts[i], ends[i])`. */
export interface PartKeys {
  starts: number[];
  ends: number[];
  /** Whether every key is plain ASCII without escapes, its bytes its code units: then byte order is code-unit order. */
  isPlain: boolean;
}

/**
 * The full keys of a part of a commit in parts (commit-parts.ts), in order,
 * when its bytes are exactly a run of operation blocks as the store writes
 * them (each after a comma, but the list's very first when `isFirst`), with
 * every value as `JSON.stringify` writes it; null for any other bytes. One
 * pass over the bytes, making no string: a part is checked on every first
 * lookup in it, in processes that have not run this code before.
 */
export function scanPartKeys(bytes: Buffer, isFirst: boolean): PartKeys | null {
  const keys: PartKeys = { starts: [], ends: [], isPlain: true };
  let at = 0;
  while (at < bytes.length) {
    if (!(isFirst && at === 0)) {
      if (bytes[at] !== COMMA) return null;
      at++;
    }
    const block = scanBlock(bytes, at, true);
    if (block === null) return null;
    const from = at + BLOCK_START.length + 1;
    const to = block.fullKeyEnd - 1;
    keys.starts.push(from);
    keys.ends.push(to);
    if (keys.isPlain) keys.isPlain = isPlainAscii(bytes, from, to);
    at = block.end;
  }
  return keys;
}

/** Full key `i` of a scanned part, as a string. */
export function partKey(bytes: Buffer, keys: PartKeys, i: number): string {
  const from = keys.starts[i]!;
  const to = keys.ends[i]!;
  return isPlainAscii(bytes, from, to) ? bytes.toString('latin1', from, to) : (JSON.parse(bytes.toString('utf8', from - 1, to + 1)) as string);
}

/** Whether each full key of a scanned part is below the next, in code-unit order. */
export function arePartKeysAscending(bytes: Buffer, keys: PartKeys): boolean {
  const count = keys.starts.length;
  if (!keys.isPlain) {
    for (let i = 1; i < count; i++) if (!(partKey(bytes, keys, i - 1) < partKey(bytes, keys, i))) return false;
    return true;
  }
  for (let i = 1; i < count; i++) if (compareBytes(bytes, keys.starts[i - 1]!, keys.ends[i - 1]!, keys.starts[i]!, keys.ends[i]!) >= 0) return false;
  return true;
}

function compareBytes(bytes: Buffer, aFrom: number, aTo: number, bFrom: number, bTo: number): number {
  const length = Math.min(aTo - aFrom, bTo - bFrom);
  for (let i = 0; i < length; i++) {
    const difference = bytes[aFrom + i]! - bytes[bFrom + i]!;
    if (difference !== 0) return difference;
  }
  return aTo - aFrom - (bTo - bFrom);
}

function isPlainAscii(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i]! === BACKSLASH || bytes[i]! >= 0x80) return false;
  return true;
}

/**
 * Whether the bytes around the list `bytes[from, to)` are a commit record
 * the validator accepts, with that list as its `operations`. The rest is
 * parsed twice with the list replaced, once by `[]` and once by `[0]`: only
 * when the list is the record's own `operations` (not a nested field's, nor
 * overridden by a later field of the same name) do the two parses differ there.
 */
function isRecordAround(bytes: Buffer, from: number, to: number): boolean {
  let empty: { operations?: unknown };
  let one: { operations?: unknown };
  try {
    const before = bytes.toString('utf8', 0, from);
    const after = bytes.toString('utf8', to);
    empty = JSON.parse(`${before}[]${after}`);
    one = JSON.parse(`${before}[0]${after}`);
  } catch {
    return false;
  }
  return (
    commitRecordProblem(empty) === null &&
    Array.isArray(empty.operations) &&
    empty.operations.length === 0 &&
    Array.isArray(one.operations) &&
    one.operations.length === 1
  );
}

/** Whether `expected` occurs in `bytes` at `at` (a loop: for a few bytes, faster than a call to Buffer.compare). */
function isAt(bytes: Buffer, expected: Buffer, at: number): boolean {
  if (at + expected.length > bytes.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** What each byte is, for the loops below: one table look instead of several comparisons. */
const PLAIN = 0;
const ENDS_LITERAL = 1;
const NOT_PLAIN = 2;
const LOWER_HEX = 4;
const BYTE_CLASS = Uint8Array.from({ length: 256 }, (_, byte) => {
  const inLiteral = byte === QUOTE ? ENDS_LITERAL : byte < 0x20 || byte === BACKSLASH || byte >= 0x80 ? NOT_PLAIN : PLAIN;
  return inLiteral | ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) ? LOWER_HEX : 0);
});

/** Whether `bytes[from, to)` are all lowercase hex digits, as `isChecksum` requires. */
function isLowerHex(bytes: Buffer, from: number, to: number): boolean {
  if (to > bytes.length) return false;
  for (let i = from; i < to; i++) if ((BYTE_CLASS[bytes[i]!]! & LOWER_HEX) === 0) return false;
  return true;
}

/** Where the JSON string literal opening at `at` ends (just past its closing quote), or -1 when none valid opens there. */
function stringLiteralEnd(bytes: Buffer, at: number): number {
  if (bytes[at] !== QUOTE) return -1;
  for (let i = at + 1; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === QUOTE) return i + 1;
    if (byte < 0x20) return -1;
    if (byte === BACKSLASH) {
      const escaped = bytes[++i];
      if (escaped === 0x75 /* u */) {
        if (!/^[0-9a-fA-F]{4}$/.test(bytes.toString('latin1', i + 1, i + 5))) return -1;
        i += 4;
      } else if (escaped === undefined || !'"\\/bfnrt'.includes(String.fromCharCode(escaped))) {
        return -1;
      }
    }
  }
  return -1;
}

/**
 * Where the string literal opening at `at` ends, as `stringLiteralEnd`, for
 * one written as `JSON.stringify` writes its value (isCanonicalLiteral), or -1.
 * Most full keys are plain ASCII without escapes: one loop checks those.
 */
function plainLiteralEnd(bytes: Buffer, at: number): number {
  if (bytes[at] !== QUOTE) return -1;
  for (let i = at + 1; i < bytes.length; i++) {
    const kind = BYTE_CLASS[bytes[i]!]! & 3;
    if (kind === ENDS_LITERAL) return i + 1;
    if (kind === NOT_PLAIN) {
      const end = stringLiteralEnd(bytes, at);
      return end >= 0 && isCanonicalLiteral(bytes, at, end) ? end : -1;
    }
  }
  return -1;
}

/**
 * Whether the string literal `bytes[from, to)` is written as
 * `JSON.stringify` writes its value. A lookup finds a full key by those
 * bytes, so a key written with other escapes (`\u0061` for `a`) would be
 * missed where a whole parse finds it; such a file gets no index.
 */
function isCanonicalLiteral(bytes: Buffer, from: number, to: number): boolean {
  let isPlain = true;
  for (let i = from + 1; i < to - 1 && isPlain; i++) isPlain = bytes[i]! !== BACKSLASH && bytes[i]! < 0x80;
  if (isPlain) return true;
  const literal = bytes.subarray(from, to);
  return Buffer.from(JSON.stringify(JSON.parse(literal.toString('utf8'))), 'utf8').equals(literal);
}

/** Where the positive safe integer written at `at` (digits, no leading zero), a version number, ends, or -1. */
function versionEnd(bytes: Buffer, at: number): number {
  let end = at;
  let value = 0;
  while (end < bytes.length && bytes[end]! >= 0x30 && bytes[end]! <= 0x39) value = value * 10 + (bytes[end++]! - 0x30);
  const digits = end - at;
  // Past 16 digits the running value may have rounded; no safe integer has more.
  if (digits === 0 || digits > 16 || bytes[at] === 0x30) return -1;
  return Number.isSafeInteger(value) ? end : -1;
}

/**
 * The operation a proved commit lists for `fullKey` (the last, when it lists
 * the key twice, as a parse into a map by full key keeps), or undefined
 * when it lists none.
 */
export function findOperation(commit: ProvedCommit, fullKey: string): CommitOperation | undefined {
  // Full keys are written as JSON.stringify writes them (plainLiteralEnd), so equal bytes are an equal key.
  const opening = Buffer.from(`${BLOCK_START.toString('latin1')}${JSON.stringify(fullKey)},`, 'utf8');
  if (commit.index === null && ++commit.searches > SEARCHES_BEFORE_INDEX) commit.index = indexOperations(commit);
  const start = commit.index === null ? searchOperation(commit, opening) : lookUpOperation(commit, commit.index, opening);
  return start < 0 ? undefined : operationAt(commit.bytes, start);
}

/**
 * Where the last operation with this opening begins, or -1. In the proved
 * list a raw newline is always structure, so every match is an operation's
 * first line; the search stops at the list's ends, never reading the record around it.
 */
function searchOperation(commit: ProvedCommit, opening: Buffer): number {
  const { bytes, listFrom, listTo } = commit;
  // Forward, and on past a match for a later one: one pass over the list (Buffer.lastIndexOf is several times slower).
  let found = -1;
  for (let at = bytes.indexOf(opening, listFrom); at >= 0 && at < listTo; at = bytes.indexOf(opening, at + 1)) found = at;
  return found;
}

function indexOperations(commit: ProvedCommit): Float64Array {
  const { bytes, starts, keyEnds } = commit;
  const index = new Float64Array(starts.length);
  for (let n = 0; n < starts.length; n++) index[n] = fnv1a(bytes, starts[n]! + BLOCK_START.length, keyEnds[n]!) * MAX_OPERATIONS + n;
  return index.sort();
}

function lookUpOperation(commit: ProvedCommit, index: Float64Array, opening: Buffer): number {
  const hash = fnv1a(opening, BLOCK_START.length, opening.length - 1);
  // The last entry of the run of this hash: within a run, entries (and so starts) ascend with n, so
  // the first match from the end is the last operation listed for the key.
  let low = 0;
  let high = index.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (index[middle]! < (hash + 1) * MAX_OPERATIONS) low = middle + 1;
    else high = middle;
  }
  for (let i = low - 1; i >= 0 && Math.floor(index[i]! / MAX_OPERATIONS) === hash; i--) {
    const start = commit.starts[index[i]! % MAX_OPERATIONS]!;
    if (isAt(commit.bytes, opening, start)) return start;
  }
  return -1;
}

/** The operation whose block (proved by `proveCommit`) begins at `start`. */
function operationAt(bytes: Buffer, start: number): CommitOperation {
  const end = bytes.indexOf(BLOCK_END, start) + BLOCK_END.length;
  return JSON.parse(bytes.toString('utf8', start + OPERATION_INDENT, end)) as CommitOperation;
}

/**
 * Each process starts the hash from its own random basis, so a crafted
 * commit cannot list thousands of keys that share one hash, which would
 * make every lookup of that hash compare them all.
 */
const FNV_BASIS = (0x811c9dc5 ^ Math.floor(Math.random() * 2 ** 32)) >>> 0;

/** 32-bit FNV-1a of `bytes[from, to)`, from this process's basis: a fast spread of full keys, confirmed by comparing the bytes. */
function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let hash = FNV_BASIS;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}
