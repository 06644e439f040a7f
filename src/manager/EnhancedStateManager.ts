/**
 * The public façade: argument checks, then a call into the feature modules.
 */
import { EventEmitter } from 'node:events';
import { StoreClosedError } from '../errors.js';
import { resolveOptions, type ResolvedOptions, type StorageOptions } from '../model/options.js';
import type { SaveOptions, StateEntry, StateStatistics, VersionInfo } from '../model/types.js';
import type { StoreFs } from '../store/fs.js';
import { StoreContext } from './context.js';
import { readLog, type CommitInfo } from './history.js';
import { openStore } from './open-store.js';
import { readStatistics } from './statistics.js';
import { TransactionManager } from './transactions.js';
import { commitStaged, findVersion, listVersions, readEntry, stageSave } from './versions.js';

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
  private opening: Promise<void> | null = null;
  private closed = false;

  constructor(projectRoot: string = process.cwd(), options: StorageOptions = {}, internals: ManagerInternals = {}) {
    super();
    this.options = resolveOptions(options);
    this.ctx = new StoreContext(projectRoot, this.options, this, internals.fs, internals.clock);
    this.projectRoot = this.ctx.layout.root;
    this.transactions = new TransactionManager(this.ctx);
  }

  /** Creates or opens the store and recovers from an earlier crash. Called implicitly by every operation. */
  initialize(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    this.opening ??= openStore(this.ctx.fs, this.ctx.layout).then(
      () => {
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
      await this.transactions.stage(tx, staged);
      this.emit('ssotStaged', { logicalKey, key: `${logicalKey}_${staged.timestamp}`, txId: tx.id });
      return `${logicalKey}_${staged.timestamp}`;
    }
    const published = await commitStaged(this.ctx, [staged], { message: `save ${logicalKey}`, transaction: null });
    return published.records[0]!.fullKey;
  }

  /** The data of the newest version of `logicalKey`, or of `version`; null when there is none. */
  async loadSSOT<T = unknown>(logicalKey: string, version?: number): Promise<T | null> {
    const entry = await this.loadEntry<T>(logicalKey, version);
    return entry === null ? null : entry.data;
  }

  /** Like `loadSSOT`, with the version's metadata. */
  async loadEntry<T = unknown>(logicalKey: string, version?: number): Promise<StateEntry<T> | null> {
    await this.initialize();
    const found = await findVersion(this.ctx, logicalKey, version);
    if (found === null) return null;
    const entry = (await readEntry(this.ctx, found)) as StateEntry<T>;
    this.emit('ssotLoaded', { logicalKey, version: entry.version, key: entry.id });
    return entry;
  }

  /** Versions of `logicalKey`, newest first. */
  async getVersions(logicalKey: string): Promise<VersionInfo[]> {
    await this.initialize();
    return listVersions(this.ctx, logicalKey);
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
    return published?.records.map((r) => r.fullKey) ?? [];
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
    return readLog(this.ctx, maxCount);
  }

  /** Absolute path of the store directory (`<projectRoot>/.ae` by default). */
  get storeDirectory(): string {
    return this.ctx.layout.store;
  }

  /** Synchronous summary of the store, read from disk. */
  getStatistics(): StateStatistics {
    return readStatistics(this.ctx, this.transactions.activeCount);
  }

  /** Rolls back open transactions and stops timers. The instance cannot be used afterwards. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    const rolledBack = this.transactions.openIds();
    for (const id of rolledBack) await this.transactions.rollback(id, 'shutdown');
    this.closed = true;
    this.emit('stateManagerShutdown', { rolledBackTransactions: rolledBack });
  }
}
