/**
 * Finds one operation in a commit file's bytes without parsing the whole
 * file. A transaction's commit lists every save it made (10,000 operations,
 * about 2 MB), and a key's versions are spread over as many commits as it has
 * versions, so parsing each of them whole to check one ref made the first
 * read of a key in a process grow with the size of every commit it touches.
 *
 * The caller has already checked the bytes against the commit id (their
 * hash), so they are exactly what was written. The scan relies on the layout
 * `encodeRecord` writes (two-space indentation, `operations` the only array
 * of objects, one field per line, `fullKey` first): JSON strings never hold a
 * raw newline, so a line `    {` followed by `      "fullKey": <key>,` can
 * only open an element of `operations`. Anything else (another program's
 * layout, a field the scan does not know) returns null, and the caller parses
 * the file whole, which decides.
 */
import { isChecksum, type CommitOperation } from './records.js';

const OPERATION_FIELDS = ['fullKey', 'logicalKey', 'version', 'checksum'];
const OPERATION_END = Buffer.from('\n    }');
const OPERATION_INDENT = '\n    '.length;
/** How every operation this store writes begins, up to the opening quote of its full key. */
const OPENING = Buffer.from('\n    {\n      "fullKey": "');
const MAX_OPERATIONS = 2 ** 20;

/**
 * Where each operation of a commit begins, sorted by a hash of its full key,
 * so that looking one up costs a search and a small parse: a commit of
 * 10,000 operations parsed whole is some 10,000 objects on the heap, and a
 * process that reads keys spread over a hundred such commits kept a million
 * of them. `keys[i]` is `hash * 2^20 + n` for the n-th operation, which
 * begins at `starts[n]`. Null for a layout the scan does not know (no
 * operation found where one begins, or more than 2^20 of them).
 */
export interface CommitOperationIndex {
  keys: Float64Array;
  starts: Uint32Array;
}

export function indexCommitOperations(bytes: Buffer): CommitOperationIndex | null {
  const starts: number[] = [];
  const hashes: number[] = [];
  for (let at = bytes.indexOf(OPENING); at >= 0; at = bytes.indexOf(OPENING, at + OPENING.length)) {
    // The full key's JSON literal runs from its quote to the comma ending the line (a JSON string never holds a raw newline).
    const literal = at + OPENING.length - 1;
    const lineEnd = bytes.indexOf(0x0a, literal);
    if (lineEnd < 0 || bytes[lineEnd - 1] !== 0x2c || starts.length === MAX_OPERATIONS) return null;
    starts.push(at);
    hashes.push(fnv1a(bytes, literal, lineEnd - 1));
  }
  if (starts.length === 0) return null;
  const keys = new Float64Array(starts.length);
  for (let n = 0; n < starts.length; n++) keys[n] = hashes[n]! * MAX_OPERATIONS + n;
  keys.sort();
  return { keys, starts: Uint32Array.from(starts) };
}

/**
 * The operation for `fullKey` found through `index` (the last, when the
 * commit lists it twice), or null when it cannot tell: absent, or not in the
 * layout the scan knows; a whole parse then decides.
 */
export function findIndexedOperation(bytes: Buffer, index: CommitOperationIndex, fullKey: string): CommitOperation | null {
  const opening = openingOf(fullKey);
  const literal = opening.subarray(OPENING.length - 1, opening.length - 2);
  const hash = fnv1a(literal, 0, literal.length);
  const { keys, starts } = index;
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[middle]! < hash * MAX_OPERATIONS) low = middle + 1;
    else high = middle;
  }
  let last = -1;
  for (let i = low; i < keys.length && Math.floor(keys[i]! / MAX_OPERATIONS) === hash; i++) {
    const start = starts[keys[i]! % MAX_OPERATIONS]!;
    if (start > last && bytes.compare(opening, 0, opening.length, start, start + opening.length) === 0) last = start;
  }
  return last < 0 ? null : operationAt(bytes, last, opening.length, fullKey);
}

/** `\n    {\n      "fullKey": <literal>,\n` for `fullKey`, as the encoder writes it. */
function openingOf(fullKey: string): Buffer {
  return Buffer.from(`\n    {\n      "fullKey": ${JSON.stringify(fullKey)},\n`);
}

/** The operation whose opening (`openingLength` bytes) begins at `start`, checked field by field; null when it is not one. */
function operationAt(bytes: Buffer, start: number, openingLength: number, fullKey: string): CommitOperation | null {
  const end = bytes.indexOf(OPERATION_END, start + openingLength);
  if (end < 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.subarray(start + OPERATION_INDENT, end + OPERATION_END.length).toString('utf8'));
  } catch {
    return null;
  }
  return isOperationFor(parsed, fullKey) ? parsed : null;
}

/** 32-bit FNV-1a of `bytes[from, to)`: a fast spread of full keys, confirmed by comparing the bytes. */
function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

function isOperationFor(value: unknown, fullKey: string): value is CommitOperation {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const op = value as Partial<CommitOperation>;
  const fields = Object.keys(op);
  return (
    fields.length === OPERATION_FIELDS.length &&
    OPERATION_FIELDS.every((field, i) => fields[i] === field) &&
    op.fullKey === fullKey &&
    typeof op.logicalKey === 'string' &&
    Number.isSafeInteger(op.version) &&
    isChecksum(op.checksum)
  );
}
