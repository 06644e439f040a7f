import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { TransactionNotFoundError, TransactionsDisabledError } from '../../src/errors.js';
import { tempProject } from '../helpers.js';

async function manager(options = {}) {
  const root = await tempProject();
  return { root, m: new EnhancedStateManager(root, options) };
}

describe('transactions', () => {
  it("runs the reference example as written: saves without a transaction id join the caller's transaction", async () => {
    const { m, root } = await manager();
    const events: Array<[string, unknown]> = [];
    for (const name of ['transactionStarted', 'transactionCommitted', 'transactionRolledBack']) m.on(name, (e) => events.push([name, e]));

    const txId = await m.beginTransaction();
    await m.saveSSOT('spec1', { n: 1 }, { phase: 'test' });
    await m.saveSSOT('spec2', { n: 2 }, { phase: 'test' });
    await m.saveSSOT('spec3', { n: 3 }, { phase: 'test' });
    // The transaction reads its own saves; another instance sees nothing before the commit.
    expect(await m.loadSSOT('spec1')).toEqual({ n: 1 });
    const other = new EnhancedStateManager(root, { gcInterval: 0 });
    expect(await other.loadSSOT('spec1')).toBeNull();
    await other.shutdown();
    const keys = await m.commitTransaction(txId);
    expect(keys).toHaveLength(3);
    expect(await m.loadSSOT('spec3')).toEqual({ n: 3 });
    expect(events).toEqual([
      ['transactionStarted', { txId, operationCount: 0 }],
      ['transactionCommitted', expect.objectContaining({ txId, operationCount: 3, keys })],
    ]);
    const [commit] = await m.getLog(1);
    expect(commit!.transaction).toBe(txId);
    expect(commit!.operations.map((op) => op.fullKey)).toEqual(keys);
    await m.shutdown();
  });

  it('after a rollback none of the saves made in the transaction is visible', async () => {
    const { m } = await manager();
    await m.saveSSOT('spec1', { before: true });
    const rolledBack: unknown[] = [];
    m.on('transactionRolledBack', (e) => rolledBack.push(e));
    const txId = await m.beginTransaction();
    try {
      await m.saveSSOT('spec1', { n: 1 });
      await m.saveSSOT('spec2', { n: 2 });
      throw new Error('phase failed');
    } catch {
      await m.rollbackTransaction(txId);
    }
    expect(await m.loadSSOT('spec1')).toEqual({ before: true });
    expect(await m.loadSSOT('spec2')).toBeNull();
    expect(rolledBack).toEqual([{ txId, operationCount: 2 }]);
    // Saves after the transaction ended commit on their own again.
    await m.saveSSOT('spec2', { after: true });
    expect(await m.loadSSOT('spec2')).toEqual({ after: true });
    await m.shutdown();
  });

  it('keeps transactions of concurrent async flows apart; an explicit transactionId wins', async () => {
    const { m } = await manager();
    const flow = async (name: string, commit: boolean) => {
      const tx = await m.beginTransaction();
      await new Promise((r) => setTimeout(r, 5));
      await m.saveSSOT(`${name}.a`, { name });
      await new Promise((r) => setTimeout(r, 5));
      await m.saveSSOT(`${name}.b`, { name });
      if (commit) await m.commitTransaction(tx);
      else await m.rollbackTransaction(tx);
      return tx;
    };
    await Promise.all([flow('kept', true), flow('dropped', false)]);
    expect(await m.loadSSOT('kept.b')).toEqual({ name: 'kept' });
    expect(await m.loadSSOT('dropped.a')).toBeNull();

    const explicit = await m.beginTransaction();
    const inner = await m.beginTransaction();
    await m.saveSSOT('explicit', 1, { transactionId: explicit });
    await m.rollbackTransaction(inner);
    await m.commitTransaction(explicit);
    expect(await m.loadSSOT('explicit')).toBe(1);
    await m.shutdown();
  });

  it('withTransaction commits on success and rolls back on a thrown error', async () => {
    const { m } = await manager();
    await m.withTransaction(async (tx) => {
      await tx.saveSSOT('w1', 1);
      await m.saveSSOT('w2', 2);
    });
    expect([await m.loadSSOT('w1'), await m.loadSSOT('w2')]).toEqual([1, 2]);
    await expect(
      m.withTransaction(async (tx) => {
        await tx.saveSSOT('w1', 'changed');
        await m.saveSSOT('w3', 3);
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    expect([await m.loadSSOT('w1'), await m.loadSSOT('w3')]).toEqual([1, null]);
    await m.shutdown();
  });

  it('is invisible to another manager on the same store until committed', async () => {
    const { m, root } = await manager();
    const reader = new EnhancedStateManager(root);
    const tx = await m.beginTransaction();
    await m.saveSSOT('pending', { a: 1 });
    expect(await reader.loadSSOT('pending')).toBeNull();
    await m.commitTransaction(tx);
    expect(await reader.loadSSOT('pending')).toEqual({ a: 1 });
    await Promise.all([m.shutdown(), reader.shutdown()]);
  });

  it('numbers versions at commit, after versions another writer published meanwhile', async () => {
    const { m, root } = await manager();
    const other = new EnhancedStateManager(root);
    const tx = await m.beginTransaction();
    const staged = await m.saveSSOT('contended', { from: 'tx' });
    await new Promise((r) => setTimeout(r, 3));
    await other.saveSSOT('contended', { from: 'other' });
    const [published] = await m.commitTransaction(tx);
    const versions = await m.getVersions('contended');
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    expect(versions[0]!.key).toBe(published);
    expect(published! > staged).toBe(true);
    expect(await m.loadSSOT('contended')).toEqual({ from: 'tx' });
    await Promise.all([m.shutdown(), other.shutdown()]);
  });

  it('refuses to commit or roll back an unknown or finished transaction', async () => {
    const { m } = await manager();
    await expect(m.commitTransaction('tx_nope')).rejects.toThrow(TransactionNotFoundError);
    const tx = await m.beginTransaction();
    await m.commitTransaction(tx);
    await expect(m.commitTransaction(tx)).rejects.toMatchObject({ message: `Transaction not found: ${tx}`, data: { state: 'committed' } });
    await expect(m.rollbackTransaction(tx)).rejects.toMatchObject({ message: `Transaction not found: ${tx}`, data: { state: 'committed' } });
    await expect(m.saveSSOT('x', 1, { transactionId: tx })).rejects.toThrow(TransactionNotFoundError);
    await m.shutdown();
  });

  it('with enableTransactions false, beginTransaction throws and saves still commit one by one', async () => {
    const { m } = await manager({ enableTransactions: false });
    await expect(m.beginTransaction()).rejects.toThrow(TransactionsDisabledError);
    await m.saveSSOT('solo', 1);
    expect(await m.loadSSOT('solo')).toBe(1);
    await m.shutdown();
  });

  it('shutdown rolls back open transactions and says so', async () => {
    const { m, root } = await manager();
    const tx = await m.beginTransaction();
    await m.saveSSOT('unfinished', 1);
    const shutdown = new Promise((r) => m.once('stateManagerShutdown', r));
    await m.shutdown();
    expect(await shutdown).toEqual({ rolledBackTransactions: [tx] });
    const fresh = new EnhancedStateManager(root);
    expect(await fresh.loadSSOT('unfinished')).toBeNull();
    await fresh.shutdown();
  });

  it('reports active transactions in the statistics', async () => {
    const { m } = await manager();
    const tx = await m.beginTransaction();
    expect(m.getStatistics().activeTransactions).toBe(1);
    await m.rollbackTransaction(tx);
    expect(m.getStatistics().activeTransactions).toBe(0);
    await m.shutdown();
  });
});
