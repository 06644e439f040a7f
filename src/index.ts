export { EnhancedStateManager, type Transaction, type ManagerInternals } from './manager/EnhancedStateManager.js';
export type {
  StateEntry,
  StorageOptions,
  FailureArtifact,
  FailureType,
  FailureSeverity,
  SnapshotMetadata,
  SaveOptions,
  VersionInfo,
  StateStatistics,
  TransactionRef,
} from './model/types.js';
export type { PerformanceMetrics, SerializationSample } from './manager/performance-metrics.js';
export * from './errors.js';
export type { FailureFilter, StoredFailure } from './manager/failures.js';
export type { FailureDocument, SerializedError } from './model/failures.js';
export type { HookStatus } from './manager/hooks.js';
export type { KeySummary } from './manager/key-summaries.js';
export type { VersionDetails, VersionPage } from './manager/version-details.js';
export type { HookRun } from './hooks/runner.js';
export type { SampleInstallResult } from './hooks/samples.js';
export type { LoadOptions, VersionSelector } from './manager/revisions.js';
export type { VersionDiff, DiffSide } from './diff/diff-versions.js';
export type { DiffSummary, Change } from './diff/diff-documents.js';
export type { PatchOperation } from './diff/json-patch.js';
export type { SnapshotDiff, SnapshotKeyDiff } from './diff/diff-snapshots.js';
export type { StoreGitStatus, StoreFileStatus, FileState } from './git/status.js';
export type { GitProvenance } from './model/records.js';
export type { SnapshotTree, SnapshotTreeEntry, TagRecord } from './model/snapshot.js';
export type { StateBackup, BackupEntry } from './model/backup.js';
export type { ImportResult } from './manager/import-versions.js';
export type { MigrationResult } from './manager/backup.js';
export type { SnapshotExport, SnapshotImport } from './manager/snapshot-archive.js';
export type { SnapshotManifest, ManifestEntry } from './archive/manifest.js';
export type { ProgressListener } from './archive/export-tar.js';
export type { GarbageCollectionOptions, GarbageCollectionResult } from './manager/retention.js';
export type { FsckRecord, GcRecord, MaintenanceRecords, RecordedProblem } from './model/maintenance-records.js';
export type { FsckOptions } from './manager/fsck.js';
export type { FsckResult, FsckProblem, FsckProblemCode } from './manager/fsck-report.js';
export type { AddFilesOptions, AddFilesResult, AddedFile } from './manager/add-files.js';
export type { VersionsCleanup } from './manager/versions.js';
export type { ConfigKey, ConfigOptions } from './model/config.js';
export { CONFIG_KEYS, envNameOf } from './model/config.js';
export { fileKeyOf, pathOfFileKey } from './model/file-keys.js';
