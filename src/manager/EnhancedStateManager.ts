/**
 * The public façade: argument checks, then a call into the feature modules.
 */
import { EventEmitter } from 'node:events';
import { isAeStateError, StoreClosedError, type AeStateError } from '../errors.js';
import { DEFAULT_OPTIONS, resolveOptions, type ResolvedOptions, type StorageOptions } from '../model/options.js';
import { checkDatabasePathInStore, layerOptions, optionsFromEnvironment, type ConfigKey, type ConfigOptions } from '../model/config.js';
import { configFilePath, readConfigFile, readConfigFileSync, writeConfigSetting } from './config-file.js';
import type { SaveOptions, StateEntry, StateStatistics, TransactionRef, VersionInfo } from '../model/types.js';
import { makeFullKey } from '../model/keys.js';
import { pathExists, type StoreFs } from '../store/fs.js';
import { assertUsableProjectRoot } from '../store/project-root.js';
import { resolve } from 'node:path';
import { StoreContext } from './context.js';
import type { CommitInfo } from './history.js';
import { openStore } from './open-store.js';
import { readStatistics } from './statistics.js';
import { StatisticsIndex } from './statistics-index.js';
import { TransactionManager } from './transactions.js';
import { CommitQueue } from './commit-queue.js';
import { findVersion, listVersions, prepareSave, readEntry, stageSave } from './versions.js';
import type { Readable, Writable } from 'node:stream';
import type { StagedVersion } from '../store/publish.js';
import type { ProgressListener } from '../archive/export-tar.js';
import type { StateBackup } from '../model/backup.js';
import type { SnapshotMetadata } from '../model/types.js';
import type { MigrationResult } from './backup.js';
import type { AddFilesOptions, AddFilesResult } from './add-files.js';
import type { ImportResult } from './import-versions.js';
import type { SnapshotExport, SnapshotImport } from './snapshot-archive.js';
import { listVersionsAt, loadEntryAt, toLoadOptions, type LoadOptions, type VersionSelector } from './revisions.js';
import type { VersionDiff } from '../diff/diff-versions.js';
import type { SnapshotDiff } from '../diff/diff-snapshots.js';
import type { StoreGitStatus } from '../git/status.js';
import { HookDispatcher } from '../hooks/dispatcher.js';
import type { HookRun } from '../hooks/runner.js';
import type { SampleInstallResult } from '../hooks/samples.js';
import type { FailureArtifact } from '../model/types.js';
import type { FailureFilter, StoredFailure } from './failures.js';
import type { HookStatus, HookTrustResult } from './hooks.js';
import type { KeySummary } from './key-summaries.js';
import type { VersionPage } from './version-details.js';
import type { FsckOptions } from './fsck.js';
import type { FsckResult } from './fsck-report.js';
import type { MaintenanceRecords } from '../model/maintenance-records.js';
import { GcTimer } from './gc-timer.js';
import type { GarbageCollectionOptions, GarbageCollectionResult } from './retention.js';
import type { PerformanceMetrics } from './performance-metrics.js';

/**
 * Constructor options over `AE_STATE_<OPTION>` variables over the store's
 * config file over defaults. Options that are not an object are left to
 * `resolveOptions` to refuse.
 */
function withSettings(projectRoot: string, options: StorageOptions): { options: StorageOptions; unsafe: AeStateError | null } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return { options, unsafe: null };
  const storeDir = resolve(projectRoot, options.storePath ?? DEFAULT_OPTIONS.storePath);
  let file: ConfigOptions = {};
  let unsafe: AeStateError | null = null;
  try {
    file = readConfigFileSync(storeDir);
  } catch (error) {
    // A link in place of the store or its config file: no setting is read through it, every
    // operation refuses (see initialize), and fsck still runs to report and repair it.
    if (!isAeStateError(error) || error.code !== 'INTEGRITY') throw error;
    unsafe = error;
  }
  if (typeof file.databasePath === 'string') checkDatabasePathInStore(file.databasePath, resolve(projectRoot), storeDir, configFilePath({ store: storeDir }));
  return { options: layerOptions(options, optionsFromEnvironment(process.env), file), unsafe };
}

/** Test seams: an injectable file system and clock. */
export interface ManagerInternals {
  fs?: StoreFs;
  clock?: () => number;
}

/**
 * The handle `withTransaction` passes to its callback. Its methods act inside
 * the transaction; the handle itself is accepted wherever a `transactionId`
 * is (`saveSSOT(k, d, { transactionId: tx })`), and it converts to its id in
 * a template string.
 */
export interface Transaction {
  readonly id: string;
  saveSSOT(logicalKey: string, data: unknown, options?: Omit<SaveOptions, 'transactionId'>): Promise<string>;
  loadSSOT<T = unknown>(logicalKey: string, version?: number): Promise<T | null>;
  loadEntry<T = unknown>(logicalKey: string, version?: number): Promise<StateEntry<T> | null>;
  getVersions(logicalKey: string): Promise<VersionInfo[]>;
  toString(): string;
}

/**
 * A versioned, content-addressed store of specification state under
 * `<projectRoot>/.ae/`.
 *
 * @example
 * const manager = new EnhancedStateManager(process.cwd());
 * const key = await manager.saveSSOT('user_specification', aeir, { phase: 'phase-5' });
 * const latest = await manager.loadSSOT('user_specification');
 * await manager.shutdown();
 */
export class EnhancedStateManager extends EventEmitter {
  readonly projectRoot: string;
  readonly options: ResolvedOptions;
  protected readonly ctx: StoreContext;
  protected readonly transactions: TransactionManager;
  private readonly commitQueue: CommitQueue;
  protected readonly hooks: HookDispatcher;
  private readonly gcTimer: GcTimer;
  private readonly statisticsIndex: StatisticsIndex;
  private opening: Promise<void> | null = null;
  private closed = false;
  /** Why the store cannot be used at all (its config file or directory is a link); fsck still runs. */
  private readonly unsafeStore: AeStateError | null;

  constructor(projectRoot: string = process.cwd(), options: StorageOptions = {}, internals: ManagerInternals = {}) {
    super();
    const settings = withSettings(projectRoot, options);
    this.unsafeStore = settings.unsafe;
    this.options = resolveOptions(settings.options);
    this.ctx = new StoreContext(projectRoot, this.options, this, internals.fs, internals.clock);
    this.projectRoot = this.ctx.layout.root;
    this.transactions = new TransactionManager(this.ctx);
    this.commitQueue = new CommitQueue(this.ctx);
    this.hooks = new HookDispatcher(this.ctx);
    this.hooks.attach();
    this.gcTimer = new GcTimer(this.ctx);
    this.statisticsIndex = new StatisticsIndex(this.ctx);
  }

  /** Creates or opens the store and recovers from an earlier crash. Called implicitly by every operation. */
  initialize(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    if (this.unsafeStore !== null) return Promise.reject(this.unsafeStore);
    this.opening ??= openStore(this.ctx.fs, this.ctx.layout)
      .then(() => this.migrateIfPresent())
      .then(
        () => {
          if (!this.closed) this.gcTimer.start();
          this.emit('stateManagerInitialized', { projectRoot: this.projectRoot, storePath: this.ctx.layout.store, options: this.options });
        },
        (error: unknown) => {
          this.opening = null;
          throw error;
        },
      );
    return this.opening;
  }

  /**
   * Saves a new version of `logicalKey` and returns its full key
   * `<logicalKey>_<ISO timestamp>`. Inside a transaction the version is
   * staged and published by `commitTransaction`.
   */
  async saveSSOT(logicalKey: string, data: unknown, options: SaveOptions = {}): Promise<string> {
    const tx = this.transactions.resolve(options?.transactionId);
    await this.initialize();
    if (tx !== null) {
      const staged = await stageSave(this.ctx, logicalKey, data, options, 'saveSSOT', tx.pack);
      this.transactions.stage(tx, staged, data);
      this.emit('ssotStaged', { logicalKey, key: `${logicalKey}_${staged.timestamp}`, txId: tx.id });
      return `${logicalKey}_${staged.timestamp}`;
    }
    // Checked now, queued in call order; saves queued while a commit is in
    // flight are published together by the next one (commit-queue.ts).
    const record = await this.commitQueue.save(prepareSave(this.ctx, logicalKey, data, options), data);
    if (this.options.awaitHooks) await this.hooks.idle();
    return record.fullKey;
  }

  /**
   * The data of the newest version of `logicalKey`, or of `version`; null
   * when there is none. With `{at: REV}` the store is read as committed at
   * that revision of the project's git history (see README, "State alongside
   * code in git").
   *
   * @example
   * const v2 = await manager.loadSSOT('user_specification', 2);
   * const before = await manager.loadSSOT('user_specification', { at: 'HEAD~1' });
   */
  async loadSSOT<T = unknown>(logicalKey: string, versionOrOptions?: number | LoadOptions): Promise<T | null> {
    const entry = await this.loadEntry<T>(logicalKey, versionOrOptions);
    return entry === null ? null : entry.data;
  }

  /** Like `loadSSOT`, with the version's metadata. */
  async loadEntry<T = unknown>(logicalKey: string, versionOrOptions?: number | LoadOptions): Promise<StateEntry<T> | null> {
    const { version, at, transactionId } = toLoadOptions(versionOrOptions);
    const own = at === undefined ? this.stagedReads(logicalKey, transactionId) : null;
    await this.openForReading();
    let entry: StateEntry<T> | null;
    if (at === undefined) {
      const found = await findVersion(this.ctx, logicalKey, version, own);
      entry = found === null ? null : ((await readEntry(this.ctx, found)) as StateEntry<T>);
    } else {
      entry = (await loadEntryAt(this.ctx, logicalKey, { version, at })) as StateEntry<T> | null;
    }
    if (entry !== null) {
      const fullKey = makeFullKey(logicalKey, entry.timestamp);
      this.emit('ssotLoaded', { logicalKey, fullKey, version: entry.version, key: fullKey, ...(at === undefined ? {} : { at }) });
    }
    return entry;
  }

  /**
   * Versions of `logicalKey`, newest first; with `{at: REV}`, as committed at
   * that git revision. Inside a transaction (its async scope, or
   * `{transactionId}`) its staged saves come first.
   */
  async getVersions(logicalKey: string, options: { at?: string; transactionId?: TransactionRef } = {}): Promise<VersionInfo[]> {
    const own = options?.at === undefined ? this.stagedReads(logicalKey, options?.transactionId) : null;
    await this.openForReading();
    return options?.at === undefined ? listVersions(this.ctx, logicalKey, own) : listVersionsAt(this.ctx, logicalKey, options.at);
  }

  /**
   * What the calling transaction has staged for `logicalKey`, read at the
   * call (synchronously, in the caller's async context), or null outside one.
   */
  private stagedReads(logicalKey: string, transactionId: TransactionRef | undefined): { txId: string; staged: StagedVersion[] } | null {
    const tx = this.transactions.resolve(transactionId);
    return tx === null ? null : { txId: tx.id, staged: this.transactions.stagedFor(tx, logicalKey) };
  }

  /**
   * Compares two versions of `logicalKey`: RFC 6902 patch plus a summary of
   * added, removed and changed JSON Pointer paths. `from` and `to` are
   * version numbers, full keys or `{version?, at?}` (a git revision); `to`
   * defaults to the newest version and `from` to the one before it. Items of
   * arrays that carry `id`, `name`, `term` (or `method` and `path`) are
   * matched by that identity. Throws `NotFoundError` for a missing side.
   *
   * @example
   * const d = await manager.diff('user_specification');            // previous → newest
   * const e = await manager.diff('user_specification', 1, 3);
   * const f = await manager.diff('user_specification', { at: 'HEAD~1' }, { at: 'HEAD' });
   * if (!d.equal) console.log(d.summary.added, d.patch);
   */
  async diff(logicalKey: string, from?: VersionSelector, to?: VersionSelector): Promise<VersionDiff> {
    await this.openForReading();
    const { diffVersions } = await import('../diff/diff-versions.js');
    return diffVersions(this.ctx, logicalKey, from, to);
  }

  /**
   * Logical keys added, removed and changed between two snapshots, with the
   * diff of each changed key.
   *
   * @example
   * const d = await manager.diffSnapshots(before, after);
   * console.log(d.added, d.removed, d.changed.map((c) => c.key));
   */
  async diffSnapshots(fromSnapshotId: string, toSnapshotId: string): Promise<SnapshotDiff> {
    await this.openForReading();
    const { diffSnapshots } = await import('../diff/diff-snapshots.js');
    return diffSnapshots(this.ctx, fromSnapshotId, toSnapshotId);
  }

  /**
   * Files of the store not yet committed to the project's git repository
   * (new, modified, deleted; `local/` excluded). Throws a `GitError` outside git.
   */
  async getGitStatus(): Promise<StoreGitStatus> {
    await this.openForReading();
    const { readStoreGitStatus } = await import('../git/status.js');
    return readStoreGitStatus(this.projectRoot, this.ctx.layout.store);
  }

  /** Every logical key with its newest version and version count, sorted by logical key. */
  async listKeys(): Promise<KeySummary[]> {
    await this.openForReading();
    const { listKeySummaries } = await import('./key-summaries.js');
    return listKeySummaries(this.ctx, this.statisticsIndex);
  }

  /**
   * Versions `offset` to `offset + limit` of `logicalKey`, newest first, with
   * the commit that published each and its object's bytes on disk.
   */
  async getVersionPage(logicalKey: string, offset = 0, limit = 100): Promise<VersionPage> {
    await this.openForReading();
    const { readVersionPage } = await import('./version-details.js');
    return readVersionPage(this.ctx, logicalKey, offset, limit);
  }

  /** The recorded runs of the hook `name` on this machine, newest first. */
  async getHookRuns(name: string): Promise<HookRun[]> {
    await this.openForReading();
    const { hookRuns } = await import('./hooks.js');
    return hookRuns(this.ctx, name);
  }

  /** Opens a transaction for the calling async context and returns its id. */
  beginTransaction(): Promise<string> {
    try {
      // Synchronous on purpose: the transaction must enter the caller's async
      // context, which an async function's own context would not reach.
      const id = this.transactions.begin();
      return this.initialize().then(() => id);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Publishes every version staged in the transaction as one commit; returns the full keys published. */
  async commitTransaction(txId: TransactionRef): Promise<string[]> {
    const published = await this.transactions.commit(txId);
    if (this.options.awaitHooks) await this.hooks.idle();
    return published?.records.map((r) => r.fullKey) ?? [];
  }

  /**
   * Stores a failure artifact as the next version of `failure_<phase>` and
   * returns its full key; emits `failureArtifactPersisted`, `failure_<type>`
   * and `failure_<phase>`, and runs the `failure` and `failure-<type>` hooks
   * (awaited when `awaitHooks` is set). A failing hook never makes it reject.
   *
   * @example
   * await manager.persistFailureArtifact({ id: 'f1', timestamp: new Date().toISOString(), phase: 'phase-4',
   *   type: 'validation', error: new Error('Domain invariant violated'), context: {}, artifacts: [],
   *   retryable: true, severity: 'high' });
   */
  async persistFailureArtifact(artifact: FailureArtifact): Promise<string> {
    await this.initialize();
    const { persistFailure } = await import('./failures.js');
    return persistFailure(this.ctx, this.hooks, artifact);
  }

  /** Stored failure artifacts matching every given filter, newest first. */
  async listFailures(filter: FailureFilter = {}): Promise<StoredFailure[]> {
    await this.openForReading();
    const { listFailures } = await import('./failures.js');
    return listFailures(this.ctx, filter);
  }

  /** Files in the store's hooks directory, whether each would run, and its last run. */
  async listHooks(): Promise<HookStatus[]> {
    await this.openForReading();
    const { listHooks } = await import('./hooks.js');
    return listHooks(this.ctx);
  }

  /** Runs the hook `name` once with `event` on its stdin, records and returns the run. */
  async runHook(name: string, event: Record<string, unknown> = {}): Promise<HookRun> {
    await this.initialize();
    const { runHookByName } = await import('./hooks.js');
    return runHookByName(this.ctx, this.hooks, name, event);
  }

  /**
   * Approves the hook `name` as its file is now, on this machine: only
   * approved hooks run (a clone's hooks never do until trusted here).
   */
  async trustHook(name: string): Promise<HookTrustResult> {
    await this.initialize();
    const { trustHook } = await import('./hooks.js');
    return trustHook(this.ctx, name);
  }

  /** Copies the package's sample hooks into the store's hooks directory, never replacing a file. */
  async installSampleHooks(): Promise<SampleInstallResult> {
    await this.initialize();
    const { installSampleHooks } = await import('../hooks/samples.js');
    return installSampleHooks(this.ctx.fs, this.ctx.layout);
  }

  /** Drops every version staged in the transaction; nothing of it was ever visible outside it. */
  async rollbackTransaction(txId: TransactionRef): Promise<void> {
    await this.transactions.rollback(txId);
  }

  /**
   * Runs `work` in a new transaction: commits when it resolves, rolls back
   * when it throws. Reads inside `work` see its staged saves.
   *
   * @example
   * await manager.withTransaction(async (tx) => {
   *   await manager.saveSSOT('spec', draft, { transactionId: tx });
   *   await tx.loadSSOT('spec'); // the draft, before the commit
   * });
   */
  async withTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const id = this.transactions.begin(false);
    const tx: Transaction = {
      id,
      saveSSOT: (logicalKey, data, options = {}) => this.saveSSOT(logicalKey, data, { ...options, transactionId: id }),
      loadSSOT: (logicalKey, version) => this.loadSSOT(logicalKey, { version, transactionId: id }),
      loadEntry: (logicalKey, version) => this.loadEntry(logicalKey, { version, transactionId: id }),
      getVersions: (logicalKey) => this.getVersions(logicalKey, { transactionId: id }),
      toString: () => id,
    };
    let result: T;
    try {
      await this.initialize();
      result = await this.transactions.runInScope(id, () => work(tx));
    } catch (error) {
      await this.transactions.rollback(id, (error as Error)?.message);
      throw error;
    }
    await this.transactions.commit(id);
    return result;
  }

  /** The store's commits, newest first. */
  async getLog(maxCount?: number): Promise<CommitInfo[]> {
    await this.openForReading();
    const { readLog } = await import('./history.js');
    return readLog(this.ctx, maxCount);
  }

  /**
   * Snapshots the latest version of every logical key whose latest version has
   * `phase`, plus (when `entities` is given) of every key that names one of
   * the entities: a key names `User` when one of its `.`/`_`/`-`-separated
   * segments is `user`, case-insensitively (see README, "Snapshots and
   * backups"). Returns the id `snapshot_<phase>_<ISO timestamp>`.
   *
   * @example
   * const id = await manager.createSnapshot('phase-5', ['User', 'Product']);
   * const entries = await manager.loadSnapshot(id);
   */
  async createSnapshot(phase: string, entities?: string[]): Promise<string> {
    await this.initialize();
    const { createSnapshot } = await import('./snapshots.js');
    return (await createSnapshot(this.ctx, phase, entities)).snapshotId;
  }

  /** The snapshot's versions by full key, with data decoded; null when there is no such snapshot. */
  async loadSnapshot(snapshotId: string): Promise<Record<string, StateEntry> | null> {
    await this.openForReading();
    const { loadSnapshot } = await import('./snapshots.js');
    return loadSnapshot(this.ctx, snapshotId);
  }

  /** Every snapshot, newest first. */
  async listSnapshots(): Promise<SnapshotMetadata[]> {
    await this.openForReading();
    const { listSnapshots } = await import('./snapshots.js');
    return listSnapshots(this.ctx);
  }

  /** Removes a snapshot; resolves to whether it existed. Its data goes at the next garbage collection unless still in use. */
  async deleteSnapshot(snapshotId: string): Promise<boolean> {
    await this.initialize();
    const { deleteSnapshot } = await import('./snapshots.js');
    return deleteSnapshot(this.ctx, snapshotId);
  }

  /**
   * Writes a snapshot as a deterministic tar to a file path (atomically) or a
   * stream. Throws `NotFoundError` for an unknown snapshot.
   *
   * @example
   * await manager.exportSnapshot(id, 'phase-5.tar');
   */
  async exportSnapshot(snapshotId: string, target: string | Writable, options: { onProgress?: ProgressListener } = {}): Promise<SnapshotExport> {
    await this.initialize();
    const { exportSnapshot } = await import('./snapshot-archive.js');
    return exportSnapshot(this.ctx, snapshotId, target, options.onProgress);
  }

  /**
   * Imports a snapshot tar written by `exportSnapshot`, verifying every
   * checksum; restores its versions and its tag. Anything outside the format
   * is refused with an `UnsafeArchiveError` and nothing is imported.
   */
  async importSnapshot(source: string | Readable, options: { onProgress?: ProgressListener } = {}): Promise<SnapshotImport> {
    await this.initialize();
    const { importSnapshot } = await import('./snapshot-archive.js');
    return importSnapshot(this.ctx, source, options.onProgress);
  }

  /** Every visible version in the JSON layout of the original single-file database. */
  async exportState(): Promise<StateBackup> {
    await this.openForReading();
    const { exportState } = await import('./backup.js');
    return exportState(this.ctx);
  }

  /**
   * Imports a backup in the original single-file layout (from `exportState`
   * or the original implementation), keeping every version, tag, ttl and
   * metadata, in one commit. Validated whole first: `InvalidBackupError` or
   * `UnsupportedFormatError`, and nothing changed, on any problem.
   */
  async importState(state: unknown): Promise<ImportResult> {
    await this.initialize();
    const { importState } = await import('./backup.js');
    return importState(this.ctx, state);
  }

  /**
   * Imports the original database file at `databasePath` and renames it to
   * `<name>.migrated-<time>`; null when there is no such file. Opening an
   * empty store does this automatically.
   */
  async migrate(): Promise<MigrationResult | null> {
    // With neither a store nor a file to migrate, there is nothing to do and no store to create.
    await this.openForReading();
    const { migrateDatabase } = await import('./backup.js');
    return migrateDatabase(this.ctx, false);
  }

  /**
   * Saves JSON files found by glob patterns (relative to `cwd`, default the
   * project root) as the next versions of their keys, in one commit. A file's
   * key is its path without `.json`, `/` read as `.` (`specs/domain/user.json`
   * → `specs.domain.user`), or with `keyFrom: 'field:NAME'` that string field
   * of its document. Files equal to their key's newest version are reported
   * `unchanged` and not saved again. Patterns may not leave the project root,
   * symbolic links are not followed, and a file that is not valid JSON fails
   * the whole call (`INVALID_ARGUMENT`, with file, line and column) before
   * anything is saved.
   *
   * @example
   * const { files } = await manager.addFiles(['specs/**\/*.json'], { phase: 'phase-5' });
   */
  async addFiles(patterns: string | readonly string[], options: AddFilesOptions = {}): Promise<AddFilesResult> {
    const list = typeof patterns === 'string' ? [patterns] : patterns;
    await this.openForReading();
    const { addFiles } = await import('./add-files.js');
    const result = await addFiles(this.ctx, list, options, () => this.initialize());
    if (this.options.awaitHooks && result.commit !== null) await this.hooks.idle();
    return result;
  }

  /** The settings in the store's config file (`.ae/config.json`), without defaults or overrides. */
  async readConfig(): Promise<ConfigOptions> {
    return readConfigFile(this.ctx.fs, this.ctx.layout);
  }

  /**
   * Sets one setting in the store's config file (`undefined` removes it),
   * atomically; it applies to managers created afterwards.
   *
   * @example
   * await manager.writeConfig('maxVersions', 20);
   */
  async writeConfig(key: ConfigKey, value: unknown): Promise<ConfigOptions> {
    await this.initialize();
    return writeConfigSetting(this.ctx, key, value);
  }

  /** Absolute path of the store directory (`<projectRoot>/.ae` by default). */
  get storeDirectory(): string {
    return this.ctx.layout.store;
  }

  /** Synchronous summary of the store, read from disk. */
  getStatistics(): StateStatistics {
    return readStatistics(this.ctx, this.transactions.activeCount, this.statisticsIndex);
  }

  /**
   * Removes versions whose time to live has passed (keeping snapshot-named
   * versions and each key's newest unless it has its own `ttl`), then objects
   * nothing references, then debris of killed writers; emits
   * `garbageCollectionCompleted`. See README, "Retention and integrity".
   *
   * @example
   * const { expiredCount, freedBytes } = await manager.runGarbageCollection({ prune: 'now' });
   */
  async runGarbageCollection(options: GarbageCollectionOptions = {}): Promise<GarbageCollectionResult> {
    await this.initialize();
    const { runGarbageCollection } = await import('./retention.js');
    return runGarbageCollection(this.ctx, options);
  }

  /**
   * The reference's entry point for a manual collection: the same as
   * `runGarbageCollection()` with the default grace period.
   */
  collectGarbage(): Promise<GarbageCollectionResult> {
    return this.runGarbageCollection();
  }

  /**
   * Stops the automatic collection timer of this instance; everything else
   * keeps working, and `collectGarbage()` still collects on demand.
   */
  stopGarbageCollection(): void {
    this.gcTimer.halt();
  }

  /**
   * Serialisations timed since the last reset (with `enablePerformanceMetrics`),
   * commits written and calls that had nothing new to publish.
   *
   * @example
   * const m = new EnhancedStateManager(root, { enablePerformanceMetrics: true });
   * await m.saveSSOT('spec', doc);
   * const { stringifyCalls, averageDurationMs, samples } = m.getPerformanceMetrics();
   */
  getPerformanceMetrics(): PerformanceMetrics {
    return this.ctx.metrics.read();
  }

  /** Zeroes every counter, drops the samples and empties the serialisation cache. */
  resetPerformanceMetrics(): void {
    this.ctx.metrics.reset();
  }

  /**
   * Checks every object, version record, commit and tag; with `{repair: true}`
   * moves damaged files to `local/corrupt/` and removes debris.
   *
   * @example
   * const report = await manager.fsck();
   * if (!report.ok) for (const p of report.problems) console.error(p.code, p.path);
   */
  async fsck(options: FsckOptions = {}): Promise<FsckResult> {
    // A store too damaged to open (a link where local/ belongs, say) is what fsck is for.
    await this.initialize().catch((error: unknown) => {
      if (!isAeStateError(error) || error.code !== 'INTEGRITY') throw error;
    });
    const { runFsck } = await import('./fsck.js');
    return runFsck(this.ctx, options);
  }

  /**
   * The summaries of the last garbage collection and the last fsck run on
   * this machine (by any process), from `local/`; null each where there is
   * none or the record is damaged. Creates nothing where there is no store.
   *
   * @example
   * const { lastGc, lastFsck } = await manager.getMaintenanceRecords();
   * if (lastFsck !== null && !lastFsck.ok) console.error(`fsck at ${lastFsck.finishedAt}: ${lastFsck.errors} error(s)`);
   */
  async getMaintenanceRecords(): Promise<MaintenanceRecords> {
    await this.openForReading();
    const { readMaintenanceRecords } = await import('./maintenance-records.js');
    return readMaintenanceRecords(this.ctx);
  }

  /**
   * Reads open the store only where there is one (or a database to migrate):
   * a read that comes first must not leave an empty `.ae/` behind. Without a
   * store, the readers see no files and answer null or empty lists.
   */
  private async openForReading(): Promise<void> {
    if (this.opening !== null || this.closed) return this.initialize();
    // A root that could never hold a store (a file, /proc) is refused on the first read too, not answered as empty.
    assertUsableProjectRoot(this.projectRoot);
    const { store } = this.ctx.layout;
    const database = resolve(this.projectRoot, this.options.databasePath);
    if ((await pathExists(this.ctx.fs, store)) || (await pathExists(this.ctx.fs, database))) return this.initialize();
  }

  /**
   * An empty store imports the original single-file database once, if there
   * is one; the common case (no such file) costs one stat and loads nothing.
   */
  private async migrateIfPresent(): Promise<void> {
    if (!(await pathExists(this.ctx.fs, resolve(this.projectRoot, this.options.databasePath)))) return;
    const { migrateDatabase } = await import('./backup.js');
    await migrateDatabase(this.ctx, true);
  }

  /** Rolls back open transactions and stops timers. The instance cannot be used afterwards. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    await this.gcTimer.stop();
    const rolledBack = this.transactions.openIds();
    for (const id of rolledBack) await this.transactions.rollback(id, 'shutdown');
    // Saves already queued are published (or fail) before the store closes.
    await this.commitQueue.idle();
    // Hooks already started finish (each is bounded by hookTimeout), so none is orphaned mid-run.
    await this.hooks.idle();
    // The statistics index written after the last getStatistics(), and the ref checks written after listings, land before the process may exit.
    await this.statisticsIndex.flush();
    await this.ctx.index.flush();
    await this.ctx.releaseWriteLock();
    await this.ctx.changeLog.close();
    this.hooks.detach();
    this.closed = true;
    this.emit('stateManagerShutdown', { rolledBackTransactions: rolledBack });
  }
}
