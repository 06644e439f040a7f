/**
 * Transactions as staged index commits. A transaction's saves write their
 * objects at once (objects are immutable; unreferenced ones are garbage) and
 * collect their refs in a staging index; `commit` publishes the whole index
 * as one commit, `rollback` drops it.
 *
 * Scoping: `begin()` enters the transaction into the caller's async context
 * (AsyncLocalStorage), so saves made without a `transactionId` by the code
 * that opened it, and by everything it awaits afterwards, join it; other
 * async flows of the process are unaffected, so several transactions can be
 * open at once. An explicit `transactionId` always wins. Once a transaction
 * is finished, saves that start in its context commit on their own again; a
 * save still in flight when its transaction finishes is refused.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CommitNotDurableError, InvalidArgumentError, TransactionNotFoundError, TransactionsDisabledError } from '../errors.js';
import { PackWriter } from '../store/pack-writer.js';
import type { PublishedCommit, StagedVersion } from '../store/publish.js';
import type { TransactionRef } from '../model/types.js';
import type { StoreContext } from './context.js';
import { commitStaged } from './versions.js';
import { reportNothingToPublish } from './performance-metrics.js';

interface OpenTransaction {
  id: string;
  staged: StagedVersion[];
  /** The caller's value of each staged save, for the `ssotSaved` events of the commit. */
  data: unknown[];
  /** The open staging index file, created at the first staged save. */
  stagingFile: FileHandle | null;
  /** The staging index appends still in flight, in order. */
  stagingWrites: Promise<void>;
  /** Where the transaction's new objects go: one pack, published by the commit. */
  pack: PackWriter;
}

export class TransactionManager {
  private readonly open = new Map<string, OpenTransaction>();
  private readonly finished = new Map<string, 'committed' | 'rolled back'>();
  private readonly scope = new AsyncLocalStorage<string>();

  constructor(private readonly ctx: StoreContext) {}

  get activeCount(): number {
    return this.open.size;
  }

  openIds(): string[] {
    return [...this.open.keys()];
  }

  /** Opens a transaction and, unless `enterScope` is false, makes it the caller's current one. */
  begin(enterScope = true): string {
    if (!this.ctx.options.enableTransactions) throw new TransactionsDisabledError();
    const id = `tx_${randomUUID()}`;
    const pack = new PackWriter(this.ctx.fs, this.ctx.layout, this.ctx.objects);
    this.open.set(id, { id, staged: [], data: [], stagingFile: null, stagingWrites: Promise.resolve(), pack });
    if (enterScope) this.scope.enterWith(id);
    this.ctx.events.emit('transactionStarted', { txId: id, operationCount: 0 });
    return id;
  }

  runInScope<T>(id: string, work: () => Promise<T>): Promise<T> {
    return this.scope.run(id, work);
  }

  /**
   * The open transaction a call belongs to: the one named by `explicit` (an
   * id or the object `withTransaction` passes), else the one of the calling
   * async context while it is open, else null (the call commits on its own,
   * or reads only committed data).
   */
  resolve(explicit: TransactionRef | undefined): OpenTransaction | null {
    if (explicit !== undefined) return this.require(idOf(explicit));
    const scoped = this.scope.getStore();
    return scoped === undefined ? null : (this.open.get(scoped) ?? null);
  }

  /** The versions a transaction has staged so far for `logicalKey`, oldest first (its own reads see them). */
  stagedFor(tx: OpenTransaction | null, logicalKey: string): StagedVersion[] {
    return tx === null ? [] : tx.staged.filter((s) => s.logicalKey === logicalKey);
  }

  /**
   * Adds a staged save to its transaction. A save that was still staging when
   * its transaction was committed or rolled back is refused: its full key
   * would otherwise be returned for a version that is never published.
   */
  stage(tx: OpenTransaction, staged: StagedVersion, data: unknown): void {
    if (this.open.get(tx.id) !== tx) throw new TransactionNotFoundError(tx.id, this.finished.get(tx.id) ?? 'unknown');
    tx.staged.push(staged);
    tx.data.push(data);
    this.writeStagingIndex(tx);
  }

  async commit(ref: TransactionRef): Promise<PublishedCommit | null> {
    const tx = this.require(idOf(ref));
    const id = tx.id;
    // Closed before publishing so that a concurrent save cannot slip into a commit already under way.
    this.close(tx, 'committed');
    try {
      if (tx.staged.length === 0) reportNothingToPublish(this.ctx, { txId: id });
      const published = tx.staged.length === 0 ? null : await commitStaged(this.ctx, tx.staged, { message: `transaction ${id}`, transaction: id, pack: tx.pack }, tx.data);
      this.ctx.events.emit('transactionCommitted', {
        txId: id,
        operationCount: tx.staged.length,
        commit: published?.id ?? null,
        keys: published?.records.map((r) => r.fullKey) ?? [],
      });
      return published;
    } catch (error) {
      // Past the commit point the transaction is published, not rolled back.
      if (error instanceof CommitNotDurableError) throw error;
      this.finished.set(id, 'rolled back');
      this.ctx.events.emit('transactionRolledBack', { txId: id, operationCount: tx.staged.length, reason: (error as Error).message });
      throw error;
    } finally {
      // A pack published before a failure stays, named by nothing, until GC.
      await tx.pack.discard();
      await this.removeStagingIndex(tx);
    }
  }

  async rollback(ref: TransactionRef, reason?: string): Promise<void> {
    const tx = this.require(idOf(ref));
    const id = tx.id;
    this.close(tx, 'rolled back');
    await tx.pack.discard();
    await this.removeStagingIndex(tx);
    await this.ctx.changeLog.noteLeftObjects(tx.staged.map((s) => s.checksum));
    this.ctx.events.emit('transactionRolledBack', { txId: id, operationCount: tx.staged.length, ...(reason ? { reason } : {}) });
  }

  private require(id: string): OpenTransaction {
    const tx = this.open.get(id);
    if (tx) return tx;
    throw new TransactionNotFoundError(String(id), this.finished.get(id) ?? 'unknown');
  }

  private close(tx: OpenTransaction, state: 'committed' | 'rolled back'): void {
    this.open.delete(tx.id);
    this.finished.set(tx.id, state);
  }

  /**
   * `local/staging/<txId>.json` names the objects an open transaction has
   * written, so garbage collection in any process leaves them alone: a JSON
   * header line `{txId, pid}`, then one checksum per line, appended as saves
   * are staged (a rewrite per save would make a transaction quadratic). It is
   * not fsynced: after a crash the transaction is gone anyway.
   */
  private writeStagingIndex(tx: OpenTransaction): void {
    const line = `${tx.staged.at(-1)!.checksum}\n`;
    // Appended in order but not awaited by the save: GC spares every object
    // younger than its grace period anyway, so the index only has to catch up
    // long before that, and a lost line costs no more than that protection.
    tx.stagingWrites = tx.stagingWrites
      .then(async () => {
        if (tx.stagingFile === null) {
          tx.stagingFile = await this.ctx.fs.open(this.stagingPath(tx.id), 'a', 0o644);
          await tx.stagingFile.write(`${JSON.stringify({ txId: tx.id, pid: process.pid })}\n`);
        }
        await tx.stagingFile.write(line);
      })
      .catch(() => undefined);
  }

  private async removeStagingIndex(tx: OpenTransaction): Promise<void> {
    await tx.stagingWrites;
    if (tx.stagingFile === null) return;
    await tx.stagingFile.close().catch(() => undefined);
    tx.stagingFile = null;
    await this.ctx.fs.unlink(this.stagingPath(tx.id)).catch(() => undefined);
  }

  private stagingPath(id: string): string {
    return join(this.ctx.layout.staging, `${id}.json`);
  }
}

function idOf(ref: TransactionRef): string {
  if (typeof ref === 'string') return ref;
  if (ref !== null && typeof ref === 'object' && typeof ref.id === 'string') return ref.id;
  throw new InvalidArgumentError(`transactionId must be a transaction id or the object withTransaction passes (got ${typeof ref})`, {
    transactionId: String(ref),
  });
}
