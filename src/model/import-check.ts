/**
 * What an imported version (from a JSON backup, the legacy database or a
 * snapshot tar) must satisfy before anything of the import is written. Pure.
 *
 * An imported version is checked as the ref record it will become, with the
 * validator readers apply to every ref (`versionRecordProblem`), so an import
 * can never publish a record the store later refuses to read. On top of that
 * it must leave room for the saves that follow it, which the read validator
 * cannot know about:
 *  - its timestamp is before MAX_IMPORT_TIMESTAMP, so the key's later saves
 *    (each at least 1 ms after the newest version) still have a four-digit
 *    year, as the full key `<logicalKey>_<ISO timestamp>` requires;
 *  - its version number is at most MAX_IMPORT_VERSION, so later saves
 *    (newest + 1) stay safe integers;
 *  - its data decodes exactly as `loadSSOT` will decode it, and serialises
 *    back to the same bytes (so its checksum names what a load returns);
 *  - its size is at most MAX_IMPORT_ENTRY_BYTES, and all the import's data
 *    together at most MAX_IMPORT_BYTES.
 */
import { assertTextDepth, deserialize, serialize } from './codec.js';
import { makeFullKey } from './keys.js';
import { buildVersionRecord, versionRecordProblem, type VersionMetadata, type VersionRecord } from './records.js';

/** Imported timestamps must be earlier than this; it leaves later saves 999 years of milliseconds. */
export const MAX_IMPORT_TIMESTAMP = '9000-01-01T00:00:00.000Z';
/** The largest version number an import may carry: 2^48, leaving 2^53 - 2^48 later saves. */
export const MAX_IMPORT_VERSION = 2 ** 48;
/** The largest serialised (uncompressed) data of one imported version, in bytes. */
export const MAX_IMPORT_ENTRY_BYTES = 64 * 1024 * 1024;
/** The most serialised data one import may carry in total, in bytes. */
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;

/** An imported version as far as its record and data go. */
export interface ImportedVersion extends VersionMetadata {
  logicalKey: string;
  timestamp: string;
  version: number;
  checksum: string;
  size: number;
}

// Stands in for the commit id a record gets when it is published.
const PLACEHOLDER_COMMIT = '2000-01-01T00-00-00.000Z_0000000000000000';

/**
 * The ref record an imported version becomes: exactly the record's fields
 * (the caller's object may carry more, such as its data), so the readers'
 * validator, which refuses unknown fields, judges what will be written.
 */
function recordOf(version: ImportedVersion): VersionRecord {
  const { logicalKey, checksum, size, tags, source, created, ttl, phase, git, entryId, reservedThrough } = version;
  const save = { logicalKey, checksum, compressed: false, size, tags, source, created, ttl, phase, git, entryId, reservedThrough };
  return buildVersionRecord(save, version.timestamp, version.version, PLACEHOLDER_COMMIT);
}

/** The first reason an imported version cannot be stored as it is, or null. */
export function importedVersionProblem(version: ImportedVersion): string | null {
  const problem = versionRecordProblem(recordOf(version));
  if (problem !== null) return problem;
  if (!(version.timestamp < MAX_IMPORT_TIMESTAMP)) return `has a timestamp ${version.timestamp} at or after ${MAX_IMPORT_TIMESTAMP}, which leaves no room for later saves`;
  if (version.version > MAX_IMPORT_VERSION) return `has version ${version.version}, above the limit of ${MAX_IMPORT_VERSION}`;
  if (version.size > MAX_IMPORT_ENTRY_BYTES) return `has ${version.size} bytes of data, above the limit of ${MAX_IMPORT_ENTRY_BYTES} per version`;
  return null;
}

/**
 * Why serialised bytes are not data the store can hand back exactly, or
 * null. Nesting is checked on the text first: decoding recurses, and data
 * nested 100,000 levels deep must be refused, not overflow the stack.
 */
export function serializedDataProblem(serialized: Buffer): string | null {
  const text = serialized.toString('utf8');
  let decoded: unknown;
  try {
    assertTextDepth(text);
    decoded = deserialize(text);
  } catch (error) {
    return `does not decode as stored data: ${(error as Error).message}`;
  }
  let again: Buffer;
  try {
    again = serialize(decoded);
  } catch (error) {
    return `decodes to data that cannot be stored: ${(error as Error).message}`;
  }
  return again.equals(serialized) ? null : 'does not decode to data that serialises to the same bytes (malformed "$ae" tag?)';
}

/** Adds up an import's data sizes; throws through `fail` once they pass MAX_IMPORT_BYTES. */
export class ImportBudget {
  private total = 0;

  add(size: number, fail: (rule: string) => never): void {
    this.total += size;
    if (this.total > MAX_IMPORT_BYTES) fail(`brings the import's data above the limit of ${MAX_IMPORT_BYTES} bytes in total`);
  }
}
