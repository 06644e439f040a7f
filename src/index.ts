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
} from './model/types.js';
export * from './errors.js';
