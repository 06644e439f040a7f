/**
 * Everything the manager's features share about one open store: options,
 * paths, the store primitives and the in-process write queue.
 */
import { EventEmitter } from 'node:events';
import type { ResolvedOptions } from '../model/options.js';
import { ChangeLog } from '../store/change-log.js';
import { CommitLog } from '../store/commits.js';
import { nodeFs, type StoreFs } from '../store/fs.js';
import { guardStoreFs } from '../store/guarded-fs.js';
import { storeLayout, type StoreLayout } from '../store/layout.js';
import { BurstLock, StoreLock } from '../store/lock.js';
import { ObjectStore } from '../store/objects.js';
import { RefCheckStore } from '../store/ref-checks.js';
import { RefStore } from '../store/refs.js';
import { readPendingCommits } from '../store/staging.js';
import { VersionIndex } from '../store/version-index.js';
import { PerformanceRecorder } from './performance-metrics.js';

/**
 * The clock read at each use, never captured: users' fake timers
 * (`vi.useFakeTimers()`, sinon) replace `Date` after the manager exists and
 * must still drive timestamps and expiry.
 */
const systemClock = (): number => Date.now();

export class StoreContext {
  readonly layout: StoreLayout;
  readonly objects: ObjectStore;
  readonly refs: RefStore;
  readonly commits: CommitLog;
  readonly index: VersionIndex;
  readonly metrics: PerformanceRecorder;
  /** What each hold of the write lock changes, for the statistics index (store/change-log.ts). */
  readonly changeLog: ChangeLog;
  /** The only door to the disk: `fs` guarded so that nothing under the store follows a link. */
  readonly fs: StoreFs;
  private readonly lock: BurstLock;
  private writeQueue: Promise<unknown> = Promise.resolve();

  constructor(
    projectRoot: string,
    readonly options: ResolvedOptions,
    readonly events: EventEmitter,
    fs: StoreFs = nodeFs,
    readonly clock: () => number = systemClock,
  ) {
    this.layout = storeLayout(projectRoot, options.storePath);
    this.fs = fs = guardStoreFs(fs, this.layout.store);
    this.objects = new ObjectStore(fs, this.layout);
    this.refs = new RefStore(fs, this.layout);
    this.commits = new CommitLog(fs, this.layout);
    const refChecks = new RefCheckStore(fs, this.layout, (id) => this.commits.pathOf(id));
    this.index = new VersionIndex(this.refs, this.commits, () => readPendingCommits(fs, this.layout), refChecks);
    this.lock = new BurstLock(new StoreLock(fs, this.layout.lock));
    this.metrics = new PerformanceRecorder(options);
    this.changeLog = new ChangeLog(fs, this.layout);
  }

  /**
   * Runs `work` holding the store's write lock. Writers of this process queue
   * in memory first, so they never poll the lock file against each other;
   * other processes are kept out by the lock file itself, which a burst of
   * writes of this process takes once (see `BurstLock`).
   */
  withWriteLock<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(async () => {
      const release = await this.lock.acquire(this.options.lockTimeout * 1000);
      try {
        await this.changeLog.begin();
        return await work();
      } finally {
        await this.changeLog.end();
        await release();
      }
    });
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  /** Waits for the queued writes, then releases the lock a burst may still keep. */
  async releaseWriteLock(): Promise<void> {
    await this.writeQueue;
    await this.lock.flush();
  }
}
