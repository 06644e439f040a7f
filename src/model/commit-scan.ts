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

/** The operation for `fullKey` in commit bytes laid out as this store writes them, or null when the scan cannot tell. */
export function scanCommitOperation(bytes: Buffer, fullKey: string): CommitOperation | null {
  const opening = Buffer.from(`\n    {\n      "fullKey": ${JSON.stringify(fullKey)},\n`);
  // The last one, as a parse into a map by full key keeps the last.
  const start = bytes.lastIndexOf(opening);
  if (start < 0) return null;
  const end = bytes.indexOf(OPERATION_END, start + opening.length);
  if (end < 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.subarray(start + OPERATION_INDENT, end + OPERATION_END.length).toString('utf8'));
  } catch {
    return null;
  }
  return isOperationFor(parsed, fullKey) ? parsed : null;
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
