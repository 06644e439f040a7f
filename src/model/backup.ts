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
import { InvalidBackupError, UnsupportedFormatError } from '../errors.js';
import { serialize } from './codec.js';
import { assertLogicalKey, isIsoTimestamp, makeFullKey } from './keys.js';
import { isGitProvenance, type VersionMetadata } from './records.js';
import type { StateEntry } from './types.js';

export const BACKUP_VERSION = '1.0.0';

export interface BackupEntry extends Omit<StateEntry, 'metadata'> {
  metadata: StateEntry['metadata'];
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

/** The checksum of the original database: sha256 of `JSON.stringify(data)`. */
export function legacyChecksum(data: unknown): string {
  return createHash('sha256').update(JSON.stringify(data) ?? '', 'utf8').digest('hex');
}

/**
 * Builds a backup from every visible version (entries per key, oldest first).
 * Data is written decoded (`compressed: false`), so the file is readable and
 * the original implementation can load it too.
 */
export function buildBackup(entries: readonly StateEntry[], options: Record<string, unknown>, timestamp: string): StateBackup {
  const keyIndex: Record<string, string[]> = {};
  const versionIndex: Record<string, number> = {};
  const out: BackupEntry[] = entries.map((entry) => {
    (keyIndex[entry.logicalKey] ??= []).push(entry.id);
    versionIndex[entry.logicalKey] = Math.max(versionIndex[entry.logicalKey] ?? 0, entry.version);
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
  return state.entries.map((raw, index) => {
    const entry = decodeEntry(raw, index);
    const fullKey = makeFullKey(entry.logicalKey, entry.timestamp);
    if (seen.has(fullKey)) throw new InvalidBackupError(`entries[${index}]: ${JSON.stringify(fullKey)} appears twice`, { index, fullKey });
    seen.add(fullKey);
    return entry;
  });
}

function decodeEntry(raw: unknown, index: number): DecodedBackupEntry {
  const fail = (rule: string): never => {
    const key = isObject(raw) && typeof raw.logicalKey === 'string' ? ` (${JSON.stringify(raw.logicalKey)})` : '';
    throw new InvalidBackupError(`entries[${index}]${key} ${rule}`, { index });
  };
  if (!isObject(raw)) return fail('is not an object');
  try {
    assertLogicalKey(raw.logicalKey);
  } catch (error) {
    return fail(`has an unusable logicalKey: ${(error as Error).message}`);
  }
  if (!isIsoTimestamp(raw.timestamp)) fail('has no ISO timestamp');
  if (!Number.isSafeInteger(raw.version) || (raw.version as number) < 1) fail('has no version number >= 1');
  if (typeof raw.compressed !== 'boolean') fail('has no compressed flag');
  if (!('data' in raw) || raw.data === undefined) fail('has no data');
  if (raw.checksum !== undefined && !(typeof raw.checksum === 'string' && /^[0-9a-f]{64}$/.test(raw.checksum))) fail('has an invalid checksum');
  const data = decodeData(raw, fail);
  let serialized: Buffer;
  try {
    serialized = serialize(reviveBuffer(data));
  } catch (error) {
    return fail(`has data that cannot be stored: ${(error as Error).message}`);
  }
  return { ...decodeMetadata(raw, fail), logicalKey: raw.logicalKey as string, timestamp: raw.timestamp as string, version: raw.version as number, serialized };
}

/** The entry's data, decompressed and checked against the legacy checksum. */
function decodeData(raw: Record<string, unknown>, fail: (rule: string) => never): unknown {
  let text: string;
  if (raw.compressed) {
    const bytes = bufferFrom(raw.data);
    if (bytes === null) fail('is compressed but its data is not a serialised Buffer');
    try {
      text = gunzipSync(bytes!).toString('utf8');
    } catch (error) {
      return fail(`has compressed data that is not a valid gzip stream (${(error as Error).message})`);
    }
  } else {
    text = JSON.stringify(raw.data);
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
  if (raw.ttl !== undefined && raw.ttl !== null && !(typeof raw.ttl === 'number' && Number.isFinite(raw.ttl) && raw.ttl > 0)) fail('has a ttl that is not a number > 0');
  const metadata = raw.metadata ?? {};
  if (!isObject(metadata)) return fail('has metadata that is not an object');
  const created = metadata.created ?? raw.timestamp;
  if (!isIsoTimestamp(created)) fail('has no ISO created time');
  const source = metadata.source ?? 'unknown';
  if (typeof source !== 'string') fail('has a source that is not a string');
  if (metadata.phase !== undefined && (typeof metadata.phase !== 'string' || metadata.phase === '')) fail('has a phase that is not a string');
  const decoded: ReturnType<typeof decodeMetadata> = { tags: { ...(tags as Record<string, string>) }, source: source as string, created: created as string };
  if (typeof raw.ttl === 'number') decoded.ttl = raw.ttl;
  if (typeof metadata.phase === 'string') decoded.phase = metadata.phase;
  if (isGitProvenance(metadata.git)) decoded.git = { commit: metadata.git.commit, branch: metadata.git.branch };
  return decoded;
}

/** A serialised Buffer (`{type: 'Buffer', data: [bytes]}`), a byte array or an in-memory Buffer; else null. */
function bufferFrom(value: unknown): Buffer | null {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
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
