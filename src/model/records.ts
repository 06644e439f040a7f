/**
 * The two small JSON records the store writes beside its data objects:
 * a version record (one ref file per version of a logical key) and a commit
 * record (one file per published commit). Encoders produce canonical bytes;
 * decoders validate every field so that a torn or hand-edited file is
 * reported as an integrity problem instead of being half-trusted.
 */
import { createHash } from 'node:crypto';
import { isIsoTimestamp, makeFullKey, timestampToFileStem } from './keys.js';

export const FORMAT_VERSION = 1;

const HEX64 = /^[0-9a-f]{64}$/;
const COMMIT_ID = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z_[0-9a-f]{16}$/;

/** Where a version came from in the project's git history, when there is one. */
export interface GitProvenance {
  commit: string;
  branch: string | null;
}

/** What a save says about a version besides its data; records, staged saves and imports share it. */
export interface VersionMetadata {
  tags: Record<string, string>;
  /** Time to live in seconds given at save time; absent means the store's defaultTTL applies. */
  ttl?: number;
  source: string;
  phase?: string;
  created: string;
  git?: GitProvenance;
  /** An imported entry's own id (the original database's uuid), kept as `StateEntry.id`; absent for saves, whose id is the full key. */
  entryId?: string;
  /**
   * Numbers up to this one are taken: the key's next version is numbered
   * after it. Set on an imported key's newest version when the backup's
   * `versionIndex` was ahead of its entries.
   */
  reservedThrough?: number;
}

/** Contents of `.ae/refs/keys/<key dir>/<timestamp stem>.json`. */
export interface VersionRecord extends VersionMetadata {
  format: number;
  fullKey: string;
  logicalKey: string;
  timestamp: string;
  version: number;
  /** sha256 hex of the serialised, uncompressed data; also the object's name. */
  checksum: string;
  /** Whether the object is stored as a gzip stream. */
  compressed: boolean;
  /** Serialised size in bytes, before compression. */
  size: number;
  /** The commit that published this version; the version is visible only once that commit exists. */
  commit: string;
}

export interface CommitOperation {
  fullKey: string;
  logicalKey: string;
  version: number;
  checksum: string;
}

/** Contents of `.ae/commits/<commit id>.json`. */
export interface CommitRecord {
  format: number;
  parent: string | null;
  time: string;
  message: string;
  transaction: string | null;
  operations: CommitOperation[];
  /** The project's git HEAD when the commit was made, if the project is in git. */
  git?: GitProvenance;
}

export function encodeRecord(record: object): Buffer {
  return Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
}

/**
 * A record's bytes followed by a `digest` field: the sha256 of the record
 * encoded without it. Refs and tags carry one, so that a flipped bit in a
 * field no other file checks is refused instead of read as other metadata.
 */
export function encodeDigestedRecord(record: object): Buffer {
  return encodeRecord({ ...record, digest: recordDigest(record) });
}

function recordDigest(record: object): string {
  return createHash('sha256').update(encodeRecord(record)).digest('hex');
}

/**
 * Splits a parsed record from its digest. `isIntact` is false when the
 * digest does not match, null when there is none (records written before
 * digests existed, read as they are).
 */
export function splitDigest(parsed: unknown, bytes?: Buffer): { record: unknown; isIntact: boolean | null } {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !('digest' in parsed)) return { record: parsed, isIntact: null };
  const { digest, ...record } = parsed as Record<string, unknown>;
  if (bytes !== undefined && typeof digest === 'string' && isDigestOfEncodedBytes(bytes, digest)) return { record, isIntact: true };
  return { record, isIntact: digest === recordDigest(record) };
}

/**
 * The digest check without encoding the record again: a file as
 * `encodeDigestedRecord` wrote it is the record's encoding with the digest
 * as its last field, so the bytes it digested are the file's up to that
 * field, closed as the encoding closes. False for any other layout, which is
 * then checked the long way (refs are read by the hundred on a first listing).
 */
function isDigestOfEncodedBytes(bytes: Buffer, digest: string): boolean {
  const tail = `,\n  "digest": "${digest}"\n}\n`;
  const end = bytes.length - tail.length;
  if (end <= 0 || bytes.toString('latin1', end) !== tail) return false;
  return createHash('sha256').update(bytes.subarray(0, end)).update('\n}\n').digest('hex') === digest;
}

/**
 * A commit id is its time and the first 16 hex digits of the sha256 of its
 * encoded record (of its head, for a commit in parts: src/model/commit-parts.ts),
 * so the file name both sorts by time and verifies content.
 */
export function commitIdOf(record: CommitRecord, hashed: Buffer): string {
  return `${timestampToFileStem(record.time)}_${commitContentHash(hashed)}`;
}

/** The content part of a commit id: 16 hex digits of the sha256 of the bytes it covers. */
export function commitContentHash(encoded: Buffer): string {
  return createHash('sha256').update(encoded).digest('hex').slice(0, 16);
}

export function isCommitId(value: unknown): value is string {
  return typeof value === 'string' && COMMIT_ID.test(value);
}

export function isChecksum(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

const VERSION_RECORD_FIELDS: ReadonlySet<string> = new Set([
  'format', 'fullKey', 'logicalKey', 'timestamp', 'version', 'checksum', 'compressed', 'size',
  'tags', 'ttl', 'source', 'phase', 'created', 'git', 'commit', 'entryId', 'reservedThrough',
]);

/**
 * Returns the first problem with a parsed version record, or null when it is
 * valid. Unknown fields are refused: a bit flipped in a field's name must not
 * turn a damaged record into a valid one with that field missing.
 */
export function versionRecordProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is not a JSON object';
  const unknown = Object.keys(value).find((field) => !VERSION_RECORD_FIELDS.has(field));
  if (unknown !== undefined) return `has an unknown field ${JSON.stringify(unknown)}`;
  const r = value as Partial<VersionRecord>;
  if (r.format !== FORMAT_VERSION) return `has unknown format ${JSON.stringify(r.format)}`;
  if (typeof r.logicalKey !== 'string' || r.logicalKey === '') return 'has no logicalKey';
  if (!isIsoTimestamp(r.timestamp)) return 'has no valid timestamp';
  if (r.fullKey !== makeFullKey(r.logicalKey, r.timestamp)) return 'has a fullKey that does not match logicalKey and timestamp';
  if (!Number.isSafeInteger(r.version) || r.version! < 1) return 'has no valid version number';
  if (!isChecksum(r.checksum)) return 'has no valid checksum';
  if (typeof r.compressed !== 'boolean') return 'has no compressed flag';
  if (!Number.isSafeInteger(r.size) || r.size! < 0) return 'has no valid size';
  if (r.tags === null || typeof r.tags !== 'object' || Array.isArray(r.tags)) return 'has no tags object';
  if (Object.values(r.tags).some((tag) => typeof tag !== 'string')) return 'has a tag that is not a string';
  if (r.ttl !== undefined && !(Number.isFinite(r.ttl) && r.ttl >= 0)) return 'has an invalid ttl';
  if (typeof r.source !== 'string') return 'has no source';
  if (r.phase !== undefined && typeof r.phase !== 'string') return 'has an invalid phase';
  if (!isIsoTimestamp(r.created)) return 'has no valid created time';
  if (!isCommitId(r.commit)) return 'has no valid commit id';
  if (r.git !== undefined && !isGitProvenance(r.git)) return 'has an invalid git provenance';
  if (r.entryId !== undefined && !isEntryId(r.entryId)) return 'has an invalid entryId';
  if (r.reservedThrough !== undefined && !(Number.isSafeInteger(r.reservedThrough) && r.reservedThrough > r.version!)) {
    return 'has an invalid reservedThrough';
  }
  return null;
}

/** What a version record takes from the save (or imported version) it records. */
export interface RecordedSave extends VersionMetadata {
  logicalKey: string;
  checksum: string;
  compressed: boolean;
  size: number;
}

/**
 * The version record of `save` at `timestamp`, numbered `version`, published
 * by `commit`: exactly the record's fields, the optional ones only when set,
 * so every writer (publishing, staged reads, import checks) builds the same
 * shape the readers' validator accepts.
 */
export function buildVersionRecord(save: RecordedSave, timestamp: string, version: number, commit: string): VersionRecord {
  const record: VersionRecord = {
    format: FORMAT_VERSION,
    fullKey: makeFullKey(save.logicalKey, timestamp),
    logicalKey: save.logicalKey,
    timestamp,
    version,
    checksum: save.checksum,
    compressed: save.compressed,
    size: save.size,
    tags: save.tags,
    source: save.source,
    created: save.created,
    commit,
  };
  if (save.ttl !== undefined) record.ttl = save.ttl;
  if (save.phase !== undefined) record.phase = save.phase;
  if (save.git !== undefined) record.git = save.git;
  if (save.entryId !== undefined) record.entryId = save.entryId;
  if (save.reservedThrough !== undefined && save.reservedThrough > version) record.reservedThrough = save.reservedThrough;
  return record;
}

/** The number after which a key's next version is numbered, given its newest visible version. */
export function lastTakenVersion(newest: { version: number; record: Pick<VersionRecord, 'reservedThrough'> }): number {
  return Math.max(newest.version, newest.record.reservedThrough ?? 0);
}

/** An imported entry id: a non-empty string of at most 200 characters. */
export function isEntryId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 200;
}

/**
 * The one check of git provenance (`{commit, branch}`), for every record
 * that carries it: refs, commits, and the entries of backups.
 */
export function isGitProvenance(value: unknown): value is GitProvenance {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const { commit, branch } = value as Partial<GitProvenance>;
  return typeof commit === 'string' && /^[0-9a-f]{40,64}$/.test(commit) && (branch === null || typeof branch === 'string');
}

export function commitRecordProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is not a JSON object';
  const r = value as Partial<CommitRecord>;
  if (r.format !== FORMAT_VERSION) return `has unknown format ${JSON.stringify(r.format)}`;
  if (r.parent !== null && !isCommitId(r.parent)) return 'has an invalid parent';
  if (!isIsoTimestamp(r.time)) return 'has no valid time';
  if (typeof r.message !== 'string') return 'has no message';
  if (r.transaction !== null && typeof r.transaction !== 'string') return 'has an invalid transaction';
  if (!Array.isArray(r.operations)) return 'has no operations';
  for (const op of r.operations) {
    const problem = commitOperationProblem(op);
    if (problem !== null) return problem;
  }
  if (r.git !== undefined && !isGitProvenance(r.git)) return 'has an invalid git provenance';
  // `parts` belongs to the layout of a commit in parts (src/model/commit-parts.ts), which its decoder strips after
  // checking it: a record still carrying it was not read in that layout, and its parts would verify nothing.
  if ('parts' in r) return 'lists parts but is not laid out in parts';
  return null;
}

/** Why one entry of a commit's `operations` is invalid, or null. */
function commitOperationProblem(op: unknown): string | null {
  if (op === null || typeof op !== 'object') return 'has an invalid operation';
  const { fullKey, logicalKey, version, checksum } = op as Partial<CommitOperation>;
  if (typeof fullKey !== 'string' || typeof logicalKey !== 'string') return 'has an operation without keys';
  // Version numbers start at 1, as in version records.
  if (!Number.isSafeInteger(version) || version! < 1 || !isChecksum(checksum)) return `has an invalid operation for ${fullKey}`;
  return null;
}
