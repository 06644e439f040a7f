/**
 * The snapshot tar format, without I/O: entry file names, the manifest, the
 * readable form of an entry's data, and the rules an archive must follow to
 * be imported. See docs/FORMAT.md, "Snapshot archives".
 *
 *   manifest.json                          first, always
 *   entries/<key dir>/<timestamp stem>.json one per version, sorted by name
 *
 * An entry file holds the version's serialised data (src/model/codec.ts)
 * pretty-printed with two-space indentation and a final newline; compacting
 * it again (`JSON.stringify(JSON.parse(text))`) gives back the exact
 * serialised bytes, whose sha256 is the checksum in the manifest.
 */
import { UnsafeArchiveError } from '../errors.js';
import { assertLogicalKey, keyDirName, timestampToFileStem } from '../model/keys.js';
import { FORMAT_VERSION, isChecksum } from '../model/records.js';
import { parseSnapshotId, treeEntryProblem, type SnapshotTree, type SnapshotTreeEntry } from '../model/snapshot.js';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_TYPE = 'ae-state-snapshot';
/** The largest entry (or manifest) an import accepts, in bytes of the tar member. */
export const MAX_ARCHIVE_ENTRY_BYTES = 64 * 1024 * 1024;
/** The most versions one archive may list. */
export const MAX_ARCHIVE_ENTRIES = 1_000_000;

export interface ManifestEntry extends SnapshotTreeEntry {
  /** The tar member that holds the data. */
  file: string;
}

export interface SnapshotManifest {
  format: number;
  type: typeof MANIFEST_TYPE;
  /** The store format the archive was written from (docs/FORMAT.md). */
  storeFormat: number;
  snapshotId: string;
  phase: string;
  entities: string[] | null;
  timestamp: string;
  /** Checksum of the snapshot's tree object in the exporting store. */
  tree: string;
  entryCount: number;
  entries: ManifestEntry[];
}

/** `entries/<key dir>/<timestamp stem>.json`: safe on every file system, unique per version. */
export function entryFileName(logicalKey: string, fullKey: string): string {
  const timestamp = fullKey.slice(logicalKey.length + 1);
  return `entries/${keyDirName(logicalKey)}/${timestampToFileStem(timestamp)}.json`;
}

export function buildManifest(tree: SnapshotTree, treeChecksum: string): SnapshotManifest {
  return {
    format: FORMAT_VERSION,
    type: MANIFEST_TYPE,
    storeFormat: FORMAT_VERSION,
    snapshotId: tree.snapshotId,
    phase: tree.phase,
    entities: tree.entities,
    timestamp: tree.timestamp,
    tree: treeChecksum,
    entryCount: tree.entries.length,
    entries: tree.entries.map((entry) => ({ file: entryFileName(entry.logicalKey, entry.fullKey), ...entry })),
  };
}

export function encodeManifest(manifest: SnapshotManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

/** The readable file of an entry: its serialised data, pretty-printed. */
export function encodeEntryFile(serialized: Buffer): Buffer {
  return Buffer.from(`${JSON.stringify(JSON.parse(serialized.toString('utf8')), null, 2)}\n`, 'utf8');
}

/** The serialised bytes an entry file stands for; null when it is not JSON. */
export function decodeEntryFile(file: Buffer): Buffer | null {
  try {
    return Buffer.from(JSON.stringify(JSON.parse(file.toString('utf8'))), 'utf8');
  } catch {
    return null;
  }
}

/** Why a tar member name is unsafe to accept, or null when it is a plain relative path. */
export function archivePathProblem(name: string): string | null {
  if (name.length === 0) return 'has an empty name';
  if (name.length > 4096) return 'has a name longer than 4096 characters';
  if (name.includes('\u0000')) return 'has a name containing NUL';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'has an absolute path';
  if (name.includes('\\')) return 'has a name containing a backslash';
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.includes('..')) return 'has a path containing ".."';
  if (segments.some((s) => s === '' || s === '.')) return 'has a path with an empty or "." segment';
  return null;
}

/** Parses and checks a manifest; anything outside the format is an `UnsafeArchiveError`. */
export function parseManifest(bytes: Buffer): SnapshotManifest {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UnsafeArchiveError(`${MANIFEST_NAME} is not valid JSON`);
  }
  const problem = manifestProblem(value);
  if (problem !== null) throw new UnsafeArchiveError(`${MANIFEST_NAME} ${problem}`);
  return value as SnapshotManifest;
}

function manifestProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is not a JSON object';
  const m = value as Partial<SnapshotManifest>;
  if (m.type !== MANIFEST_TYPE) return `is not an ae-state snapshot manifest (type ${JSON.stringify(m.type)})`;
  if (m.format !== FORMAT_VERSION) return `has unknown format version ${JSON.stringify(m.format)}; this ae-state reads ${FORMAT_VERSION}`;
  if (m.storeFormat !== FORMAT_VERSION) return `comes from store format ${JSON.stringify(m.storeFormat)}; this ae-state reads ${FORMAT_VERSION}`;
  const id = typeof m.snapshotId === 'string' ? parseSnapshotId(m.snapshotId) : null;
  if (id === null) return 'has no valid snapshotId';
  if (m.phase !== id.phase || m.timestamp !== id.timestamp) return 'has a phase or timestamp that does not match its snapshotId';
  if (m.entities !== null && !(Array.isArray(m.entities) && m.entities.every((e) => typeof e === 'string'))) return 'has invalid entities';
  if (!isChecksum(m.tree)) return 'has no valid tree checksum';
  if (!Array.isArray(m.entries) || m.entries.length > MAX_ARCHIVE_ENTRIES) return `has no entries array of at most ${MAX_ARCHIVE_ENTRIES} items`;
  if (m.entryCount !== m.entries.length) return `says it has ${String(m.entryCount)} entries but lists ${m.entries.length}`;
  const files = new Set<string>();
  let previous: string | null = null;
  for (const [i, entry] of m.entries.entries()) {
    const problem = manifestEntryProblem(entry);
    if (problem !== null) return `entries[${i}] ${problem}`;
    if (previous !== null && !(previous < entry.fullKey)) return `entries[${i}] is not sorted by fullKey or is a duplicate`;
    if (files.has(entry.file)) return `entries[${i}] names the file ${entry.file} twice`;
    previous = entry.fullKey;
    files.add(entry.file);
  }
  return null;
}

function manifestEntryProblem(entry: unknown): string | null {
  const problem = treeEntryProblem(entry);
  if (problem !== null) return problem;
  const e = entry as ManifestEntry;
  try {
    assertLogicalKey(e.logicalKey);
  } catch (error) {
    return (error as Error).message;
  }
  if (e.file !== entryFileName(e.logicalKey, e.fullKey)) return `names the file ${JSON.stringify(e.file)}, not ${entryFileName(e.logicalKey, e.fullKey)}`;
  if (e.size > MAX_ARCHIVE_ENTRY_BYTES) return `is ${e.size} bytes, above the limit of ${MAX_ARCHIVE_ENTRY_BYTES}`;
  return null;
}
