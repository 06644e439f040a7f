/**
 * The public façade: argument checks, then a call into the feature modules.
 */
import { EventEmitter } from 'node:events';
import { isAeStateError, StoreClosedError } from '../errors.js';
import { resolveOptions, type ResolvedOptions, type StorageOptions } from '../model/options.js';
import type { SaveOptions, StateEntry, StateStatistics, VersionInfo } from '../model/types.js';
import { pathExists, type StoreFs } from '../store/fs.js';
import { resolve } from 'node:path';
import { StoreContext } from './context.js';
import type { CommitInfo } from './history.js';
import { openStore } from './open-store.js';
import { readStatistics } from './statistics.js';
import { TransactionManager } from './transactions.js';
import { commitStaged, findVersion, listVersions, readEntry, stageSave } from './versions.js';
import type { Readable, Writable } from 'node:stream';
import type { ProgressListener } from '../archive/export-tar.js';
import type { StateBackup } from '../model/backup.js';
import type { SnapshotMetadata } from '../model/types.js';
import type { MigrationResult } from './backup.js';
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
import type { FsckOptions } from './fsck.js';
import type { FsckResult } from './fsck-report.js';
import { GcTimer } from './gc-timer.js';
import type { GarbageCollectionOptions, GarbageCollectionResult } from './retention.js';

/** Test seams: an injectable file system and clock. */
export interface ManagerInternals {
  fs?: StoreFs;
  clock?: () => number;
}

export interface Transaction {
  readonly id: string;
  saveSSOT(logicalKey: string, data: unknown, options?: Omit<SaveOptions, 'transactionId'>): Promise<string>;
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
  protected readonly hooks: HookDispatcher;
  private readonly gcTimer: GcTimer;
  private opening: Promise<void> | null = null;
  private closed = false;

  constructor(projectRoot: string = process.cwd(), options: StorageOptions = {}, internals: ManagerInternals = {}) {
    super();
    this.options = resolveOptions(options);
    this.ctx = new StoreContext(projectRoot, this.options, this, internals.fs, internals.clock);
    this.projectRoot = this.ctx.layout.root;
    this.transactions = new TransactionManager(this.ctx);
    this.hooks = new HookDispatcher(this.ctx);
    this.hooks.attach();
    this.gcTimer = new GcTimer(this.ctx);
  }

  /** Creates or opens the store and recovers from an earlier crash. Called implicitly by every operation. */
  initialize(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError());
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
    const staged = await stageSave(this.ctx, logicalKey, data, options);
    if (tx !== null) {
      this.transactions.stage(tx, staged);
      this.emit('ssotStaged', { logicalKey, key: `${logicalKey}_${staged.timestamp}`, txId: tx.id });
      return `${logicalKey}_${staged.timestamp}`;
    }
    const published = await commitStaged(this.ctx, [staged], { message: `save ${logicalKey}`, transaction: null });
    if (this.options.awaitHooks) await this.hooks.idle();
    return published.records[0]!.fullKey;
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
    const { version, at } = toLoadOptions(versionOrOptions);
    await this.initialize();
    let entry: StateEntry<T> | null;
    if (at === undefined) {
      const found = await findVersion(this.ctx, logicalKey, version);
      entry = found === null ? null : ((await readEntry(this.ctx, found)) as StateEntry<T>);
    } else {
      entry = (await loadEntryAt(this.ctx, logicalKey, { version, at })) as StateEntry<T> | null;
    }
    if (entry !== null) this.emit('ssotLoaded', { logicalKey, version: entry.version, key: entry.id, ...(at === undefined ? {} : { at }) });
    return entry;
  }

  /** Versions of `logicalKey`, newest first; with `{at: REV}`, as committed at that git revision. */
  async getVersions(logicalKey: string, options: { at?: string } = {}): Promise<VersionInfo[]> {
    await this.initialize();
    return options.at === undefined ? listVersions(this.ctx, logicalKey) : listVersionsAt(this.ctx, logicalKey, options.at);
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
    await this.initialize();
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
    await this.initialize();
    const { diffSnapshots } = await import('../diff/diff-snapshots.js');
    return diffSnapshots(this.ctx, fromSnapshotId, toSnapshotId);
  }

  /**
   * Files of the store not yet committed to the project's git repository
   * (new, modified, deleted; `local/` excluded). Throws a `GitError` outside git.
   */
  async getGitStatus(): Promise<StoreGitStatus> {
    await this.initialize();
    const { readStoreGitStatus } = await import('../git/status.js');
    return readStoreGitStatus(this.projectRoot, this.ctx.layout.store);
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
  async commitTransaction(txId: string): Promise<string[]> {
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
    await this.initialize();
    const { listFailures } = await import('./failures.js');
    return listFailures(this.ctx, filter);
  }

  /** Files in the store's hooks directory, whether each would run, and its last run. */
  async listHooks(): Promise<HookStatus[]> {
    await this.initialize();
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

  async rollbackTransaction(txId: string): Promise<void> {
    await this.transactions.rollback(txId);
  }

  /** Runs `work` in a new transaction: commits when it resolves, rolls back when it throws. */
  async withTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const id = this.transactions.begin(false);
    const tx: Transaction = {
      id,
      saveSSOT: (logicalKey, data, options = {}) => this.saveSSOT(logicalKey, data, { ...options, transactionId: id }),
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
    await this.initialize();
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
    await this.initialize();
    const { loadSnapshot } = await import('./snapshots.js');
    return loadSnapshot(this.ctx, snapshotId);
  }

  /** Every snapshot, newest first. */
  async listSnapshots(): Promise<SnapshotMetadata[]> {
    await this.initialize();
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
    await this.initialize();
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
    await this.initialize();
    const { migrateDatabase } = await import('./backup.js');
    return migrateDatabase(this.ctx, false);
  }

  /** Absolute path of the store directory (`<projectRoot>/.ae` by default). */
  get storeDirectory(): string {
    return this.ctx.layout.store;
  }

  /** Synchronous summary of the store, read from disk. */
  getStatistics(): StateStatistics {
    return readStatistics(this.ctx, this.transactions.activeCount);
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
    // Hooks already started finish (each is bounded by hookTimeout), so none is orphaned mid-run.
    await this.hooks.idle();
    this.hooks.detach();
    this.closed = true;
    this.emit('stateManagerShutdown', { rolledBackTransactions: rolledBack });
  }
}
