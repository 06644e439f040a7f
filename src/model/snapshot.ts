/**
 * Pure rules for snapshots: the snapshot id, the tag file name derived from
 * it, and validation of tag records and tree records. A snapshot is a tag
 * (`refs/tags/<name>.json`) naming a tree object; the tree lists the exact
 * versions (full key, checksum, metadata) the snapshot holds.
 */
import { InvalidKeyError } from '../errors.js';
import { assertLogicalKey, isIsoTimestamp, makeFullKey } from './keys.js';
import { FORMAT_VERSION, isChecksum } from './records.js';

/** One version named by a snapshot tree. */
export interface SnapshotTreeEntry {
  fullKey: string;
  logicalKey: string;
  version: number;
  /** sha256 of the serialised data; the data object's name. */
  checksum: string;
  size: number;
  compressed: boolean;
  tags: Record<string, string>;
  ttl?: number;
  source: string;
  phase?: string;
  created: string;
}

/** The content-addressed tree object of a snapshot. */
export interface SnapshotTree {
  format: number;
  type: 'tree';
  snapshotId: string;
  phase: string;
  entities: string[] | null;
  timestamp: string;
  /** Sorted by fullKey (code-unit order), no duplicates. */
  entries: SnapshotTreeEntry[];
}

/** Contents of `refs/tags/<tag name>.json`. */
export interface TagRecord {
  format: number;
  snapshotId: string;
  /** Checksum of the tree object. */
  tree: string;
  created: string;
}

const SNAPSHOT_ID = /^snapshot_(.+)_(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/s;
// Characters that Windows refuses in file names, beyond what logical keys forbid.
const UNSAFE_FILE_CHARS = /[<>:"|?*]/;

export function makeSnapshotId(phase: string, timestamp: string): string {
  return `snapshot_${phase}_${timestamp}`;
}

export function parseSnapshotId(snapshotId: string): { phase: string; timestamp: string } | null {
  const match = SNAPSHOT_ID.exec(snapshotId);
  if (!match || !isIsoTimestamp(match[2])) return null;
  return { phase: match[1]!, timestamp: match[2]! };
}

/**
 * Throws `InvalidKeyError` unless `phase` can name a snapshot: a valid
 * logical key (no `/`, `\`, `..`, control characters, at most 200 bytes)
 * without the characters Windows refuses in file names (`<>:"|?*`) and not
 * ending in a dot, so the tag file name is safe on every file system.
 */
export function assertSnapshotPhase(phase: unknown): asserts phase is string {
  assertLogicalKey(phase);
  if (UNSAFE_FILE_CHARS.test(phase)) throw new InvalidKeyError(phase, 'may not contain any of <>:"|?* in a snapshot phase');
  if (phase.endsWith('.')) throw new InvalidKeyError(phase, 'may not end with "." in a snapshot phase');
}

/** Throws `InvalidKeyError` unless `snapshotId` is `snapshot_<phase>_<ISO timestamp>` with a valid phase. */
export function assertSnapshotId(snapshotId: unknown): asserts snapshotId is string {
  if (typeof snapshotId !== 'string') throw new InvalidKeyError(String(snapshotId), 'is not a snapshot id');
  const parsed = parseSnapshotId(snapshotId);
  if (parsed === null) throw new InvalidKeyError(snapshotId, 'is not a snapshot id of the form snapshot_<phase>_<ISO timestamp>');
  assertSnapshotPhase(parsed.phase);
}

/** `snapshot_p_2025-01-20T10:00:00.000Z` → `snapshot_p_2025-01-20T10-00-00.000Z.json`. */
export function tagFileName(snapshotId: string): string {
  return `${snapshotId.replaceAll(':', '-')}.json`;
}

const TAG_FIELDS: ReadonlySet<string> = new Set(['format', 'snapshotId', 'tree', 'created']);

export function tagRecordProblem(value: unknown): string | null {
  if (!isPlainObject(value)) return 'is not a JSON object';
  const unknown = Object.keys(value).find((field) => !TAG_FIELDS.has(field));
  if (unknown !== undefined) return `has an unknown field ${JSON.stringify(unknown)}`;
  const t = value as Partial<TagRecord>;
  if (t.format !== FORMAT_VERSION) return `has unknown format ${JSON.stringify(t.format)}`;
  if (typeof t.snapshotId !== 'string' || parseSnapshotId(t.snapshotId) === null) return 'has no valid snapshotId';
  if (!isChecksum(t.tree)) return 'has no valid tree checksum';
  if (!isIsoTimestamp(t.created)) return 'has no valid created time';
  return null;
}

export function treeProblem(value: unknown): string | null {
  if (!isPlainObject(value)) return 'is not a JSON object';
  const t = value as Partial<SnapshotTree>;
  if (t.format !== FORMAT_VERSION) return `has unknown format ${JSON.stringify(t.format)}`;
  if (t.type !== 'tree') return 'is not a tree';
  if (typeof t.snapshotId !== 'string' || parseSnapshotId(t.snapshotId) === null) return 'has no valid snapshotId';
  if (typeof t.phase !== 'string') return 'has no phase';
  if (t.entities !== null && !(Array.isArray(t.entities) && t.entities.every((e) => typeof e === 'string'))) {
    return 'has invalid entities';
  }
  if (!isIsoTimestamp(t.timestamp)) return 'has no valid timestamp';
  if (!Array.isArray(t.entries)) return 'has no entries';
  let previous: string | null = null;
  for (const entry of t.entries) {
    const problem = treeEntryProblem(entry);
    if (problem !== null) return `has an entry that ${problem}`;
    const fullKey = (entry as SnapshotTreeEntry).fullKey;
    if (previous !== null && !(previous < fullKey)) return 'has entries that are not sorted by fullKey or are duplicated';
    previous = fullKey;
  }
  return null;
}

export function treeEntryProblem(value: unknown): string | null {
  if (!isPlainObject(value)) return 'is not a JSON object';
  const e = value as Partial<SnapshotTreeEntry>;
  if (typeof e.logicalKey !== 'string' || typeof e.fullKey !== 'string') return 'has no keys';
  const timestamp = e.fullKey.slice(e.logicalKey.length + 1);
  if (!isIsoTimestamp(timestamp) || e.fullKey !== makeFullKey(e.logicalKey, timestamp)) {
    return `has a fullKey ${JSON.stringify(e.fullKey)} that does not match its logicalKey`;
  }
  if (!Number.isSafeInteger(e.version) || e.version! < 1) return 'has no valid version number';
  if (!isChecksum(e.checksum)) return 'has no valid checksum';
  if (!Number.isSafeInteger(e.size) || e.size! < 0) return 'has no valid size';
  if (typeof e.compressed !== 'boolean') return 'has no compressed flag';
  if (!isPlainObject(e.tags) || !Object.values(e.tags).every((v) => typeof v === 'string')) return 'has no tags object';
  if (e.ttl !== undefined && !(typeof e.ttl === 'number' && Number.isFinite(e.ttl) && e.ttl >= 0)) return 'has an invalid ttl';
  if (typeof e.source !== 'string') return 'has no source';
  if (e.phase !== undefined && typeof e.phase !== 'string') return 'has an invalid phase';
  if (!isIsoTimestamp(e.created)) return 'has no valid created time';
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether `snapshotId` has the form of a snapshot id with a valid phase. */
export function isSnapshotId(snapshotId: unknown): snapshotId is string {
  try {
    assertSnapshotId(snapshotId);
    return true;
  } catch {
    return false;
  }
}
