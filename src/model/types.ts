/**
 * Public types of the reference API.
 */
import type { GitProvenance } from './records.js';

export type { StorageOptions } from './options.js';

export interface StateEntry<T = unknown> {
  /** The full key `<logicalKey>_<ISO timestamp>`, unique per version. */
  id: string;
  logicalKey: string;
  timestamp: string;
  version: number;
  /** sha256 hex of the serialised data; also the name of its object. */
  checksum: string;
  /** Always decoded data, never a compressed buffer. */
  data: T;
  /** Whether the data is stored gzipped. */
  compressed: boolean;
  tags: Record<string, string>;
  /** Time to live in seconds: the version's own, else the store's defaultTTL. */
  ttl?: number;
  metadata: {
    size: number;
    created: string;
    accessed: string;
    source: string;
    phase?: string;
    git?: GitProvenance;
  };
}

/**
 * A transaction named by its id, or by the object `withTransaction` passes to
 * its callback (anything with a string `id`).
 */
export type TransactionRef = string | { readonly id: string };

export interface SaveOptions {
  phase?: string;
  tags?: Record<string, string>;
  /** Seconds; this version's own time to live. */
  ttl?: number;
  source?: string;
  /** Stage into this open transaction instead of the one of the calling async context. */
  transactionId?: TransactionRef;
}

export interface VersionInfo {
  version: number;
  timestamp: string;
  key: string;
  checksum: string;
  size: number;
  compressed: boolean;
  phase?: string;
  source: string;
  tags: Record<string, string>;
  git?: GitProvenance;
}

export type FailureType = 'validation' | 'compilation' | 'test' | 'verification' | 'generation';
export type FailureSeverity = 'low' | 'medium' | 'high' | 'critical';

export interface FailureArtifact {
  id: string;
  timestamp: string;
  phase: string;
  type: FailureType;
  error: Error;
  context: Record<string, unknown>;
  artifacts: string[];
  retryable: boolean;
  severity: FailureSeverity;
}

export interface SnapshotMetadata {
  /** The snapshot id, as the reference names it; the same as `snapshotId`. */
  id: string;
  snapshotId: string;
  phase: string;
  /** The entities asked for; empty when none were. */
  entities: string[];
  timestamp: string;
  /** sha256 of the snapshot's tree object (the same as `tree`). */
  checksum: string;
  /** Whether the tree object is stored gzipped. */
  compressed: boolean;
  /** Serialised bytes of the versions it names (the same as `totalSize`). */
  size: number;
  /** Twice the store's defaultTTL, as the reference reports it; snapshots never expire by time. */
  ttl: number;
  /** Full keys of the versions the snapshot names. */
  entries: string[];
  entryCount: number;
  totalSize: number;
  /** sha256 of the snapshot's tree object. */
  tree: string;
}

export interface StateStatistics {
  totalEntries: number;
  /** Serialised bytes of all versions, before compression and deduplication. */
  totalSize: number;
  compressedEntries: number;
  logicalKeys: number;
  averageVersions: number;
  oldestEntry: string | null;
  newestEntry: string | null;
  activeTransactions: number;
  /** Bytes of the object files on disk. */
  objectBytes: number;
  objectCount: number;
  /** 1 - objectBytes / totalSize: what deduplication and compression save. */
  spaceSaving: number;
  /** Bytes of every file in the store directory: objects, records, commits, tags and local files. */
  diskBytes: number;
  /** totalSize minus the serialised bytes of the distinct objects the versions name: what storing equal content once saves. */
  dedupSavedBytes: number;
  /** Serialised bytes of the distinct objects the versions name, minus their bytes on disk: what gzip saves. */
  compressionSavedBytes: number;
}
