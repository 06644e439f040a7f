/**
 * The whole-state backup: the JSON layout of the original single-file
 * database (`{metadata: {version: "1.0.0", timestamp, options}, entries,
 * indices: {keyIndex, versionIndex}}`), read and written here without I/O.
 *
 * In that layout an entry's `checksum` is `sha256(JSON.stringify(data))` of
 * the data before compression, and an entry with `compressed: true` carries
 * its data as a serialised Node Buffer (`{"type":"Buffer","data":[…]}`) of
 * the gzipped JSON text. Binary data (a Buffer at the top level) is a
 * serialised Buffer too, and is read back as a Buffer.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { InvalidBackupError, InvalidDataError, UnsupportedFormatError } from '../errors.js';
import { assertValueDepth, serialize } from './codec.js';
import { ImportBudget, importedVersionProblem, MAX_IMPORT_ENTRY_BYTES, MAX_IMPORT_VERSION, serializedDataProblem } from './import-check.js';
import { reviveLegacyValues, toLegacyJson } from './legacy-values.js';
import { assertLogicalKey, isIsoTimestamp, makeFullKey } from './keys.js';
import { isEntryId, isGitProvenance, type GitProvenance, type VersionMetadata } from './records.js';
import type { StateEntry } from './types.js';

export const BACKUP_VERSION = '1.0.0';

export interface BackupEntry extends Omit<StateEntry, 'metadata'> {
  metadata: StateEntry['metadata'] & {
    /**
     * The version has no ttl of its own: `ttl` is the exporting store's
     * defaultTTL, written for the original (which gives every entry one).
     * ae-state imports such an entry without a ttl, so the importing store's
     * defaultTTL applies and a key's newest version stays protected.
     */
    ttlFromDefault?: true;
  };
}

export interface StateBackup {
  metadata: { version: string; timestamp: string; options: Record<string, unknown> };
  entries: BackupEntry[];
  indices: { keyIndex: Record<string, string[]>; versionIndex: Record<string, number> };
}

/** One version of a backup, checked and ready to store. */
export interface DecodedBackupEntry extends VersionMetadata {
  logicalKey: string;
  timestamp: string;
  version: number;
  /** The data as the store serialises it (src/model/codec.ts). */
  serialized: Buffer;
}

/** The checksum of the original database: sha256 of `JSON.stringify(data)`, binary values as its markers. */
export function legacyChecksum(data: unknown): string {
  return createHash('sha256').update(toLegacyJson(data) ?? '', 'utf8').digest('hex');
}

/**
 * Builds a backup from every visible version (entries per key, oldest first).
 * Data is written decoded (`compressed: false`), so the file is readable and
 * the original implementation can load it too. `lastTaken` holds a key's
 * reserved numbers (see VersionRecord.reservedThrough) when they are ahead of
 * its entries; `versionIndex` carries them, as the original's does.
 */
export function buildBackup(
  entries: readonly (StateEntry | BackupEntry)[],
  options: Record<string, unknown>,
  timestamp: string,
  lastTaken: Readonly<Record<string, number>> = {},
): StateBackup {
  const keyIndex: Record<string, string[]> = {};
  const versionIndex: Record<string, number> = {};
  const out: BackupEntry[] = entries.map((entry) => {
    (keyIndex[entry.logicalKey] ??= []).push(makeFullKey(entry.logicalKey, entry.timestamp));
    versionIndex[entry.logicalKey] = Math.max(versionIndex[entry.logicalKey] ?? 0, entry.version, lastTaken[entry.logicalKey] ?? 0);
    return { ...entry, checksum: legacyChecksum(entry.data), compressed: false };
  });
  return { metadata: { version: BACKUP_VERSION, timestamp, options }, entries: out, indices: { keyIndex, versionIndex } };
}

/**
 * Validates a whole backup and decodes every entry, or throws
 * `UnsupportedFormatError` (unknown version) / `InvalidBackupError` (the
 * first problem, naming the entry) before anything is written.
 */
export function decodeBackup(state: unknown): DecodedBackupEntry[] {
  if (!isObject(state)) throw new InvalidBackupError('a backup must be a JSON object with metadata and entries');
  const version = isObject(state.metadata) ? state.metadata.version : state.version;
  if (version !== BACKUP_VERSION) {
    throw new UnsupportedFormatError(`backup version ${JSON.stringify(version)} is not supported; this ae-state reads version ${BACKUP_VERSION}`, { version });
  }
  if (!Array.isArray(state.entries)) throw new InvalidBackupError('backup has no entries array');
  if (state.indices !== undefined && !isObject(state.indices)) throw new InvalidBackupError('backup indices must be an object');
  const seen = new Set<string>();
  const budget = new ImportBudget();
  const decoded = state.entries.map((raw, index) => {
    const entry = decodeEntry(raw, index);
    checkImportable(entry, index, budget);
    const fullKey = makeFullKey(entry.logicalKey, entry.timestamp);
    if (seen.has(fullKey)) throw new InvalidBackupError(`entries[${index}]: ${JSON.stringify(fullKey)} appears twice`, { index, fullKey });
    seen.add(fullKey);
    return entry;
  });
  reserveIndexedVersions(decoded, isObject(state.indices) ? state.indices.versionIndex : undefined);
  return decoded;
}

/**
 * A `versionIndex` ahead of a key's entries (versions that were removed, or
 * numbers the original had handed out) is honoured: the key's newest entry
 * reserves the numbers up to it, so the next save continues after it, as in
 * the original. Values that are not version numbers are refused.
 */
function reserveIndexedVersions(entries: DecodedBackupEntry[], versionIndex: unknown): void {
  if (versionIndex === undefined) return;
  if (!isObject(versionIndex)) throw new InvalidBackupError('backup indices.versionIndex must be an object');
  const newest = new Map<string, DecodedBackupEntry>();
  for (const entry of entries) {
    const current = newest.get(entry.logicalKey);
    if (current === undefined || entry.timestamp > current.timestamp) newest.set(entry.logicalKey, entry);
  }
  for (const [logicalKey, value] of Object.entries(versionIndex)) {
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      throw new InvalidBackupError(`backup indices.versionIndex[${JSON.stringify(logicalKey)}] is not a version number`, { key: logicalKey });
    }
    // A reservation counts like a version number: past the limit, the key's later saves would have no number left.
    if ((value as number) > MAX_IMPORT_VERSION) {
      throw new InvalidBackupError(`backup indices.versionIndex[${JSON.stringify(logicalKey)}] is ${String(value)}, above the limit of ${MAX_IMPORT_VERSION}`, { key: logicalKey });
    }
    const entry = newest.get(logicalKey);
    if (entry !== undefined && (value as number) > entry.version) entry.reservedThrough = value as number;
  }
}

function decodeEntry(raw: unknown, index: number): DecodedBackupEntry {
  const fail = (rule: string): never => {
    const key = isObject(raw) && typeof raw.logicalKey === 'string' ? ` (${JSON.stringify(raw.logicalKey)})` : '';
    throw new InvalidBackupError(`entries[${index}]${key} ${rule}`, { index });
  };
  if (!isObject(raw)) return fail('is not an object');
  // The original's words, which its users match on.
  if (raw.logicalKey === undefined) throw new InvalidBackupError(`entries[${index}]: Invalid state entry: missing logicalKey`, { index });
  try {
    assertLogicalKey(raw.logicalKey);
  } catch (error) {
    return fail(`has an unusable logicalKey: ${(error as Error).message}`);
  }
  if (!isIsoTimestamp(raw.timestamp)) fail('has no ISO timestamp');
  if (!Number.isSafeInteger(raw.version) || (raw.version as number) < 1) fail('has no version number >= 1');
  if (typeof raw.compressed !== 'boolean') fail('has no compressed flag');
  if (!('data' in raw) || raw.data === undefined) fail('has no data');
  const checksum = givenChecksum(raw);
  if (checksum !== undefined && !(typeof checksum === 'string' && /^[0-9a-f]{64}$/.test(checksum))) fail('has an invalid checksum');
  // Before decoding: nesting past the limit is refused before any recursion could overflow.
  assertEntryDepth(raw, index);
  const data = decodeData({ ...raw, checksum }, fail);
  let serialized: Buffer;
  try {
    serialized = serialize(reviveLegacyValues(reviveBuffer(data)));
  } catch (error) {
    return fail(`has data that cannot be stored: ${(error as Error).message}`);
  }
  return { ...decodeMetadata(raw, fail), logicalKey: raw.logicalKey as string, timestamp: raw.timestamp as string, version: raw.version as number, serialized };
}

/**
 * The checksum an entry asks to be checked against; an empty or null one
 * means "not recorded" (the original computes it then), so it is computed.
 */
function givenChecksum(raw: Record<string, unknown>): unknown {
  return raw.checksum === '' || raw.checksum === null ? undefined : raw.checksum;
}

/** The entry's data, decompressed and checked against the legacy checksum. */
function decodeData(raw: Record<string, unknown>, fail: (rule: string) => never): unknown {
  let text: string;
  if (raw.compressed) {
    const bytes = bufferFrom(raw.data);
    if (bytes === null) fail('is compressed but its data is not a serialised Buffer');
    try {
      text = gunzipSync(bytes!, { maxOutputLength: MAX_IMPORT_ENTRY_BYTES }).toString('utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') fail(`decompresses to more than ${MAX_IMPORT_ENTRY_BYTES} bytes, the limit per version`);
      return fail(`has compressed data that is not a valid gzip stream (${(error as Error).message})`);
    }
  } else {
    text = toLegacyJson(raw.data) ?? '';
  }
  if (raw.checksum !== undefined && createHash('sha256').update(text, 'utf8').digest('hex') !== raw.checksum) {
    fail(`has data that does not match its checksum ${String(raw.checksum)}`);
  }
  if (!raw.compressed) return raw.data;
  try {
    return JSON.parse(text);
  } catch {
    return fail('has compressed data that is not JSON');
  }
}

function decodeMetadata(raw: Record<string, unknown>, fail: (rule: string) => never): Omit<DecodedBackupEntry, 'logicalKey' | 'timestamp' | 'version' | 'serialized'> {
  const tags = raw.tags ?? {};
  if (!isObject(tags) || !Object.values(tags).every((v) => typeof v === 'string')) fail('has tags that are not an object of strings');
  if (raw.ttl !== undefined && raw.ttl !== null && !(typeof raw.ttl === 'number' && Number.isFinite(raw.ttl) && raw.ttl >= 0)) fail('has a ttl that is not a number >= 0');
  const metadata = raw.metadata ?? {};
  if (!isObject(metadata)) return fail('has metadata that is not an object');
  const created = metadata.created ?? raw.timestamp;
  if (!isIsoTimestamp(created)) fail('has no ISO created time');
  const source = metadata.source ?? 'unknown';
  if (typeof source !== 'string') fail('has a source that is not a string');
  if (metadata.phase !== undefined && (typeof metadata.phase !== 'string' || metadata.phase === '')) fail('has a phase that is not a string');
  const decoded: ReturnType<typeof decodeMetadata> = { tags: { ...(tags as Record<string, string>) }, source: source as string, created: created as string };
  const ttl = importedTtl(raw.ttl, metadata.ttlFromDefault);
  if (ttl !== undefined) decoded.ttl = ttl;
  if (typeof metadata.phase === 'string') decoded.phase = metadata.phase;
  // Kept as given: checkImportable refuses provenance the store could not read back.
  if (metadata.git !== undefined && metadata.git !== null) decoded.git = metadata.git as GitProvenance;
  const entryId = importedEntryId(raw);
  if (entryId !== undefined) decoded.entryId = entryId;
  return decoded;
}

/**
 * The entry's own id, kept so that `loadEntry` reports it as the original
 * did; an id equal to the full key (ae-state's own backups) is not stored
 * twice, and an unusable one (not a short string) is dropped, not refused:
 * the original gave such entries a new id too.
 */
function importedEntryId(raw: Record<string, unknown>): string | undefined {
  if (!isEntryId(raw.id)) return undefined;
  return raw.id === makeFullKey(raw.logicalKey as string, raw.timestamp as string) ? undefined : raw.id;
}

/**
 * An entry without a ttl never expires once imported (ttl 0): the original
 * only expires entries that carry one, and the store's defaultTTL would
 * otherwise delete migrated data a week later. An entry marked
 * `ttlFromDefault` (ae-state's own export of a version saved without a ttl)
 * gets no ttl of its own, as before the export: otherwise the exported
 * defaultTTL would become its own and expire even a key's newest version.
 */
function importedTtl(ttl: unknown, ttlFromDefault: unknown): number | undefined {
  if (ttlFromDefault === true) return undefined;
  return typeof ttl === 'number' ? ttl : 0;
}

/**
 * A serialised Buffer (`{type: 'Buffer', data: [bytes]}`), a byte array, or
 * bytes in memory (any typed array or DataView, an ArrayBuffer or a
 * SharedArrayBuffer), or the original's marker of one of those; else null.
 */
function bufferFrom(raw: unknown): Buffer | null {
  const value = isObject(raw) && typeof raw.__ae_type === 'string' ? reviveLegacyValues(raw) : raw;
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return Buffer.from(new Uint8Array(value));
  const bytes = isObject(value) && value.type === 'Buffer' ? value.data : value;
  if (Array.isArray(bytes) && bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Buffer.from(bytes as number[]);
  return null;
}

/** Binary data was written as a serialised Buffer; it is read back as a Buffer. */
function reviveBuffer(data: unknown): unknown {
  if (isObject(data) && data.type === 'Buffer' && Object.keys(data).length === 2) return bufferFrom(data) ?? data;
  return data;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Checks a decoded entry as the store will read it back (src/model/import-check.ts):
 * the ref record it becomes, the room it leaves for later saves, its data's
 * round trip and the import's total size. Throws `InvalidBackupError` naming the entry.
 */
function checkImportable(entry: DecodedBackupEntry, index: number, budget: ImportBudget): void {
  const fail = (rule: string): never => {
    throw new InvalidBackupError(`entries[${index}] (${JSON.stringify(entry.logicalKey)}) ${rule}`, { index, key: entry.logicalKey });
  };
  const checksum = createHash('sha256').update(entry.serialized).digest('hex');
  const problem = importedVersionProblem({ ...entry, checksum, size: entry.serialized.length }) ?? serializedDataProblem(entry.serialized);
  if (problem !== null) fail(problem);
  budget.add(entry.serialized.length, fail);
}

/** Deep data is refused before anything recurses into it (JSON.stringify would overflow the stack). */
function assertEntryDepth(raw: Record<string, unknown>, index: number): void {
  if (raw.compressed) return; // parsed from text by JSON.parse, which does not recurse; serialize checks it
  try {
    assertValueDepth(raw.data);
  } catch (error) {
    if (!(error instanceof InvalidDataError)) throw error;
    throw new InvalidDataError(`entries[${index}] (${JSON.stringify(raw.logicalKey)}) ${error.message}`, { index, key: raw.logicalKey });
  }
}
