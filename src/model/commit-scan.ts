/**
 * Finds one operation in a commit file's bytes without parsing the whole
 * file. A transaction's commit lists every save it made (10,000 operations,
 * about 2 MB), and a key's versions are spread over as many commits as it has
 * versions, so parsing each of them whole to check one ref made the first
 * read of a key in a process grow with the size of every commit it touches.
 *
 * The caller has already checked the bytes against the commit id (their
 * hash), so they are exactly what was written, but not that the store wrote
 * them: a clone can carry any file under a matching name. So the index is
 * built only from a file it proves to be what `parseCommitRecord` accepts
 * (one pass over the list, and a parse of the few lines around it), and to list exactly the operations it found:
 * the layout `encodeRecord` writes (two-space indentation, one field per
 * line), with `operations` a list of blocks that each hold the four fields
 * of an operation, in order, each value checked as the record validator
 * checks it, and everything around that list a record the validator accepts.
 * A file in any other layout gets no index, and the caller parses it whole.
 * Either way a lookup answers what a whole parse answers.
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

/**
 * Where each operation of a commit begins, sorted by a hash of its full key,
 * so that looking one up costs a search and a small parse: a commit of
 * 10,000 operations parsed whole is some 10,000 objects on the heap, and a
 * process that reads keys spread over a hundred such commits kept a million
 * of them. `keys[i]` is `hash * 2^20 + n` for the n-th operation, which
 * begins at `starts[n]`.
 */
export interface CommitOperationIndex {
  keys: Float64Array;
  // Offsets fit: a file read whole is at most 2 GiB (Node's limit for readFile).
  starts: Uint32Array;
}

/**
 * The index of a commit's operations, or null when the bytes are not in the
 * layout the scan proves (or list no operation, or more than 2^20): a
 * whole parse then decides, and refuses what the record validator refuses.
 */
export function indexCommitOperations(bytes: Buffer): CommitOperationIndex | null {
  // A whole parse decodes the file to one string, and refuses a file longer than the longest
  // string; UTF-8 decodes to at most one UTF-16 unit a byte, so any file up to that length decodes.
  if (bytes.length > constants.MAX_STRING_LENGTH) return null;
  const listStart = bytes.indexOf(LIST_START);
  if (listStart < 0) return null;
  const starts: number[] = [];
  const hashes: number[] = [];
  let at = listStart + LIST_START.length;
  for (;;) {
    if (starts.length === MAX_OPERATIONS) return null;
    const block = at;
    const fullKey = at + BLOCK_START.length;
    if (!isAt(bytes, BLOCK_START, block)) return null;
    const fullKeyEnd = stringLiteralEnd(bytes, fullKey);
    if (fullKeyEnd < 0 || !isCanonicalLiteral(bytes, fullKey, fullKeyEnd) || !isAt(bytes, LOGICAL_KEY, fullKeyEnd)) return null;
    const logicalKeyEnd = stringLiteralEnd(bytes, fullKeyEnd + LOGICAL_KEY.length);
    if (logicalKeyEnd < 0 || !isAt(bytes, VERSION, logicalKeyEnd)) return null;
    const versionEnd = safeIntegerEnd(bytes, logicalKeyEnd + VERSION.length);
    if (versionEnd < 0 || !isAt(bytes, CHECKSUM, versionEnd)) return null;
    const checksumEnd = versionEnd + CHECKSUM.length + 64;
    if (!isLowerHex(bytes, versionEnd + CHECKSUM.length, checksumEnd) || !isAt(bytes, BLOCK_END, checksumEnd)) return null;
    starts.push(block);
    hashes.push(fnv1a(bytes, fullKey, fullKeyEnd));
    at = checksumEnd + BLOCK_END.length;
    if (bytes[at] === COMMA) at++;
    else if (isAt(bytes, LIST_END, at)) break;
    else return null;
  }
  const listEnd = at + LIST_END.length;
  if (!isRecordAround(bytes, listStart + LIST_START.length - 1, listEnd)) return null;
  const keys = new Float64Array(starts.length);
  for (let n = 0; n < starts.length; n++) keys[n] = hashes[n]! * MAX_OPERATIONS + n;
  keys.sort();
  return { keys, starts: Uint32Array.from(starts) };
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

/** Whether `bytes[from, to)` are all lowercase hex digits, as `isChecksum` requires. */
function isLowerHex(bytes: Buffer, from: number, to: number): boolean {
  if (to > bytes.length) return false;
  for (let i = from; i < to; i++) {
    const byte = bytes[i]!;
    if (!((byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66))) return false;
  }
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

/** Where the non-negative safe integer written at `at` (digits, no leading zero) ends, or -1. */
function safeIntegerEnd(bytes: Buffer, at: number): number {
  let end = at;
  let value = 0;
  while (end < bytes.length && bytes[end]! >= 0x30 && bytes[end]! <= 0x39) value = value * 10 + (bytes[end++]! - 0x30);
  const digits = end - at;
  // Past 16 digits the running value may have rounded; no safe integer has more.
  if (digits === 0 || digits > 16 || (digits > 1 && bytes[at] === 0x30)) return -1;
  return Number.isSafeInteger(value) ? end : -1;
}

/**
 * The operation for `fullKey` found through `index` (the last, when the
 * commit lists it twice, as a parse into a map by full key keeps), or
 * undefined when the commit lists none.
 */
export function findIndexedOperation(bytes: Buffer, index: CommitOperationIndex, fullKey: string): CommitOperation | undefined {
  const opening = Buffer.from(`${BLOCK_START.toString('latin1')}${JSON.stringify(fullKey)},`, 'utf8');
  const literal = opening.subarray(BLOCK_START.length, opening.length - 1);
  const hash = fnv1a(literal, 0, literal.length);
  const { keys, starts } = index;
  // The last entry of the run of this hash: within a run, keys (and so starts) ascend with n, so
  // the first match from the end is the last operation listed for the key.
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[middle]! < (hash + 1) * MAX_OPERATIONS) low = middle + 1;
    else high = middle;
  }
  for (let i = low - 1; i >= 0 && Math.floor(keys[i]! / MAX_OPERATIONS) === hash; i--) {
    const start = starts[keys[i]! % MAX_OPERATIONS]!;
    // Full keys are written as JSON.stringify writes them (isCanonicalLiteral), so equal bytes are an equal key.
    if (isAt(bytes, opening, start)) return operationAt(bytes, start);
  }
  return undefined;
}

/** The operation whose block (proved by `indexCommitOperations`) begins at `start`. */
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
