/**
 * Group commit for the saves of one process made outside transactions.
 * While a commit is in flight, later saves wait here; the next commit
 * publishes all of them at once, so N concurrent saves cost about what one
 * N-save transaction costs instead of N commits.
 *
 * What each caller keeps, as if it had saved alone:
 *  - its own full key, version and `ssotSaved` event; versions follow the
 *    order in which the saves were queued (the order of the `saveSSOT` calls),
 *    across batches too, since batches are published one after another;
 *  - its own outcome: a batch that fails before its commit point publishes
 *    nothing (publishCommit is all or nothing), and its saves are then
 *    published in halves, down to single saves, so a save that cannot be
 *    published fails alone and the others are neither lost nor published
 *    twice. A failure after the commit point (`CommitNotDurableError`)
 *    concerns every save of the commit, which is visible, and is reported
 *    to each of them.
 *
 * Saves are checked (and their data serialised) before they are queued, so
 * bad input is refused at once and never reaches a batch.
 */
import { setImmediate as nextTurn } from 'node:timers';
import { CommitNotDurableError, LockTimeoutError } from '../errors.js';
import type { VersionRecord } from '../model/records.js';
import { PackWriter } from '../store/pack-writer.js';
import type { StoreContext } from './context.js';
import { announceCommit, publishStaged, writeSaveObjects, type PreparedSave, type PublishedWithRetention } from './versions.js';

/** The most saves one commit publishes; a longer queue is published in several commits, in order. */
export const MAX_BATCH_SAVES = 1000;

/** How many of a batch's logical keys its commit message names. */
const KEYS_IN_MESSAGE = 10;

interface QueuedSave {
  prepared: PreparedSave;
  data: unknown;
  resolve: (record: VersionRecord) => void;
  reject: (error: unknown) => void;
}

/**
 * The commit message of a batch, from its saves' logical keys in order:
 * `save <key>` for one save (as a save alone has always been recorded),
 * `saves <n> versions of <k> keys: <key>, <key>, …` for several, naming the
 * distinct keys in order of first save, at most ten.
 */
export function batchMessage(logicalKeys: readonly string[]): string {
  if (logicalKeys.length === 1) return `save ${logicalKeys[0]}`;
  const distinct = [...new Set(logicalKeys)];
  const named = distinct.slice(0, KEYS_IN_MESSAGE).join(', ');
  const more = distinct.length > KEYS_IN_MESSAGE ? `, and ${distinct.length - KEYS_IN_MESSAGE} more` : '';
  const keys = distinct.length === 1 ? '1 key' : `${distinct.length} keys`;
  return `saves ${logicalKeys.length} versions of ${keys}: ${named}${more}`;
}

export class CommitQueue {
  private pending: QueuedSave[] = [];
  private isDraining = false;
  private drained: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: StoreContext) {}

  /** Queues a checked save; resolves with its record once a commit has published it. */
  save(prepared: PreparedSave, data: unknown): Promise<VersionRecord> {
    return new Promise((resolve, reject) => {
      this.pending.push({ prepared, data, resolve, reject });
      if (!this.isDraining) {
        this.isDraining = true;
        this.drained = this.drain();
      }
    });
  }

  /** Resolves once every save queued so far has its outcome. */
  async idle(): Promise<void> {
    while (this.isDraining) await this.drained;
  }

  /**
   * Publishes the queue batch after batch until it is empty. Never rejects:
   * each save gets its own outcome. `isDraining` is cleared in the very step
   * that finds the queue empty (no await in between), so a save queued at
   * any later moment starts a new drain rather than wait for one that ended.
   */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        // One turn of the event loop, so that saves started together (a
        // Promise.all over many saves) join the same batch. The timers
        // module's own function, which fake timers installed on the global
        // object (vi.useFakeTimers) do not replace: saves must not wait for
        // a test to advance its clock.
        await new Promise((resolve) => nextTurn(resolve));
        await this.commitBatch(this.pending.splice(0, MAX_BATCH_SAVES));
      }
    } finally {
      this.isDraining = false;
    }
  }

  private async commitBatch(batch: QueuedSave[]): Promise<void> {
    let result: PublishedWithRetention;
    try {
      result = await this.publish(batch);
    } catch (error) {
      if (batch.length === 1 || !isSplittable(error)) {
        for (const save of batch) save.reject(error);
        return;
      }
      // Nothing of the batch was published: its halves are published in
      // turn, and so on down to single saves, so one save that cannot be
      // published costs a few commits, not one per save.
      const half = Math.ceil(batch.length / 2);
      await this.commitBatch(batch.slice(0, half));
      await this.commitBatch(batch.slice(half));
      return;
    }
    this.settle(batch, result);
  }

  /**
   * Writes the batch's objects (before taking the lock, as a lone save does)
   * and publishes them as one commit. A batch of several saves writes its new
   * objects as one pack, fsynced once, as a transaction does; a lone save
   * writes a loose object.
   */
  private async publish(batch: readonly QueuedSave[]): Promise<PublishedWithRetention> {
    const pack = batch.length > 1 ? new PackWriter(this.ctx.fs, this.ctx.layout, this.ctx.objects) : undefined;
    try {
      const staged = await writeSaveObjects(this.ctx, batch.map((save) => save.prepared), pack);
      const message = batchMessage(staged.map((s) => s.logicalKey));
      return await this.ctx.withWriteLock(() => publishStaged(this.ctx, staged, { message, transaction: null, pack }));
    } finally {
      // A pack published before a failure stays, named by nothing, until GC; an unpublished one is dropped.
      await pack?.discard();
    }
  }

  /** Announces a published batch and gives each caller its record (in the order of the batch, which is the commit's). */
  private settle(batch: readonly QueuedSave[], result: PublishedWithRetention): void {
    try {
      announceCommit(this.ctx, result, null, batch.map((save) => save.data));
    } catch (error) {
      // An event listener threw; the commit is published all the same, as for a save alone.
      for (const save of batch) save.reject(error);
      return;
    }
    batch.forEach((save, i) => save.resolve(result.published.records[i]!));
  }
}

/**
 * Whether publishing a failed batch in smaller parts may succeed for some of
 * them. Not after the commit point (the commit is visible: its saves must
 * not be published again), nor when the lock could not be had (every part
 * would wait as long again).
 */
function isSplittable(error: unknown): boolean {
  return !(error instanceof CommitNotDurableError || error instanceof LockTimeoutError);
}
