/**
 * Code written for the original Enhanced State Manager, ported by changing
 * only the import: its options, metrics, garbage collection entry points,
 * transactions, error texts, events, records and imports, used the way the
 * original's README and tests use them.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EnhancedStateManager, InvalidOptionError, type FailureArtifact } from '../../src/index.js';
import { tempProject } from '../helpers.js';

const opened: EnhancedStateManager[] = [];

async function manager(options: ConstructorParameters<typeof EnhancedStateManager>[1] = {}) {
  const root = await tempProject();
  const m = new EnhancedStateManager(root, { recordGitProvenance: false, ...options });
  opened.push(m);
  return { root, m };
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(opened.splice(0).map((m) => m.shutdown()));
});

describe('options of the original', () => {
  it('accepts, reports and defaults enablePerformanceMetrics, enableSerializationCache, performanceSampleSize, skipUnchangedPersistence', async () => {
    const { m } = await manager();
    expect(m.options).toMatchObject({ enablePerformanceMetrics: false, enableSerializationCache: false, performanceSampleSize: 20, skipUnchangedPersistence: true });
    const { m: custom } = await manager({ enablePerformanceMetrics: true, enableSerializationCache: true, performanceSampleSize: 3, skipUnchangedPersistence: false });
    expect(custom.options).toMatchObject({ enablePerformanceMetrics: true, enableSerializationCache: true, performanceSampleSize: 3, skipUnchangedPersistence: false });
  });

  it.each([
    [{ enablePerformanceMetrics: 'yes' }],
    [{ enableSerializationCache: 1 }],
    [{ performanceSampleSize: -1 }],
    [{ performanceSampleSize: 2.5 }],
    [{ skipUnchangedPersistence: null }],
    [{ defaultTTL: -1 }],
  ])('refuses %o with an InvalidOptionError', async (options) => {
    expect(() => new EnhancedStateManager(process.cwd(), options as never)).toThrow(InvalidOptionError);
  });

  it('defaultTTL: 0 means versions never expire, even long after', async () => {
    const { m } = await manager({ defaultTTL: 0, gcInterval: 0 });
    vi.useFakeTimers({ toFake: ['Date'] });
    await m.saveSSOT('inventory', { stock: 1 });
    await m.saveSSOT('inventory', { stock: 2 });
    vi.setSystemTime(Date.now() + 10 * 365 * 86_400_000);
    const result = await m.collectGarbage();
    expect(result.expiredCount).toBe(0);
    expect((await m.getVersions('inventory')).map((v) => v.version)).toEqual([2, 1]);
    expect((await m.loadEntry('inventory', 1))!.ttl).toBe(0);
  });

  it('a save with ttl: 0 never expires, whatever defaultTTL says', async () => {
    const { m } = await manager({ defaultTTL: 1, gcInterval: 0 });
    vi.useFakeTimers({ toFake: ['Date'] });
    await m.saveSSOT('forever', { n: 1 }, { ttl: 0 });
    await m.saveSSOT('forever', { n: 2 }, { ttl: 0 });
    vi.setSystemTime(Date.now() + 86_400_000);
    expect((await m.collectGarbage()).expiredCount).toBe(0);
    expect((await m.getVersions('forever')).length).toBe(2);
  });
});

describe('performance metrics', () => {
  it('count serialisations, their bytes and the last performanceSampleSize samples; reset clears them', async () => {
    const { m } = await manager({ enablePerformanceMetrics: true, performanceSampleSize: 2 });
    const docs = [{ id: 'a' }, { id: 'bb' }, { id: 'ccc' }];
    for (const doc of docs) await m.saveSSOT('spec', doc);
    const metrics = m.getPerformanceMetrics();
    expect(metrics).toMatchObject({ stringifyCalls: 3, lastPayloadSize: JSON.stringify(docs[2]).length, persistedWrites: 3, skippedPersistWrites: 0 });
    expect(metrics.stringifyDurationMs).toBeGreaterThanOrEqual(metrics.stringifyMaxDurationMs);
    expect(metrics.averageDurationMs).toBeGreaterThanOrEqual(0);
    expect(metrics.samples.map((s) => [s.context, s.size, s.cacheHit])).toEqual([
      ['saveSSOT', JSON.stringify(docs[1]).length, false],
      ['saveSSOT', JSON.stringify(docs[2]).length, false],
    ]);
    m.resetPerformanceMetrics();
    expect(m.getPerformanceMetrics()).toEqual({
      stringifyCalls: 0,
      stringifyDurationMs: 0,
      stringifyMaxDurationMs: 0,
      averageDurationMs: 0,
      lastPayloadSize: 0,
      stringifyCacheHits: 0,
      stringifyCacheMisses: 0,
      persistedWrites: 0,
      skippedPersistWrites: 0,
      samples: [],
    });
  });

  it('without enablePerformanceMetrics, times nothing but still counts writes', async () => {
    const { m } = await manager();
    await m.saveSSOT('spec', { a: 1 });
    expect(m.getPerformanceMetrics()).toMatchObject({ stringifyCalls: 0, samples: [], persistedWrites: 1 });
  });

  it('performanceSampleSize: 0 keeps no samples and still counts every serialisation', async () => {
    const { m } = await manager({ enablePerformanceMetrics: true, performanceSampleSize: 0 });
    await m.saveSSOT('spec', { a: 1 });
    await m.saveSSOT('spec', { a: 2 });
    expect(m.getPerformanceMetrics()).toMatchObject({ stringifyCalls: 2, samples: [] });
  });

  it('the serialisation cache reuses only deeply frozen documents, so a mutated document is never stored stale', async () => {
    const { m } = await manager({ enablePerformanceMetrics: true, enableSerializationCache: true });
    const frozen = Object.freeze({ id: 'f', nested: Object.freeze({ n: 1 }) });
    await m.saveSSOT('frozen', frozen);
    await m.saveSSOT('frozen', frozen);
    const mutable = { id: 'm', n: 1 };
    await m.saveSSOT('mutable', mutable);
    mutable.n = 2;
    await m.saveSSOT('mutable', mutable);
    expect(m.getPerformanceMetrics()).toMatchObject({ stringifyCacheHits: 1, stringifyCacheMisses: 3 });
    expect(await m.loadSSOT('frozen')).toEqual(frozen);
    expect(await m.loadSSOT('mutable')).toEqual({ id: 'm', n: 2 });
  });

  it('skipUnchangedPersistence: a call with nothing new to publish writes nothing and is counted; saves are never skipped', async () => {
    const { m } = await manager();
    const skipped: unknown[] = [];
    m.on('persistenceSkipped', (e) => skipped.push(e));
    await m.commitTransaction(await m.beginTransaction());
    const backup = { metadata: { version: '1.0.0', timestamp: new Date().toISOString(), options: {} }, entries: [] };
    await m.importState(backup);
    await m.saveSSOT('same', { a: 1 });
    await m.saveSSOT('same', { a: 1 });
    expect(m.getPerformanceMetrics()).toMatchObject({ skippedPersistWrites: 2, persistedWrites: 2 });
    expect(skipped).toEqual([expect.objectContaining({ reason: 'unchanged' }), expect.objectContaining({ reason: 'unchanged' })]);
    expect((await m.getVersions('same')).length).toBe(2);
    expect(await m.getLog()).toHaveLength(2);

    const { m: counting } = await manager({ skipUnchangedPersistence: false });
    await counting.commitTransaction(await counting.beginTransaction());
    expect(counting.getPerformanceMetrics().skippedPersistWrites).toBe(0);
    expect(await counting.getLog()).toHaveLength(0);
  });
});

describe('garbage collection entry points', () => {
  it('collectGarbage removes what fake timers expired, as in the original tests', async () => {
    const { m } = await manager({ defaultTTL: 1, gcInterval: 1 });
    await m.saveSSOT('ttl-entry', { id: 'ttl' }, { ttl: 1 });
    vi.useFakeTimers();
    vi.advanceTimersByTime(1500);
    await m.collectGarbage();
    vi.useRealTimers();
    expect(await m.loadSSOT('ttl-entry')).toBeNull();
  });

  it('keeps ttl entries alive before their expiry', async () => {
    const { m } = await manager({ defaultTTL: 0, gcInterval: 1 });
    await m.saveSSOT('ttl-entry-active', { id: 'ttl' }, { ttl: 1 });
    await m.collectGarbage();
    expect(await m.loadSSOT('ttl-entry-active')).toEqual({ id: 'ttl' });
  });

  it('fake timers drive the gcInterval timer; stopGarbageCollection stops it and the manager keeps working', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const { m } = await manager({ gcInterval: 10 });
    const runs: unknown[] = [];
    m.on('garbageCollectionCompleted', (e) => runs.push(e));
    await m.saveSSOT('short', { a: 1 }, { ttl: 5 });
    vi.advanceTimersByTime(10_000);
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    expect(await m.loadSSOT('short')).toBeNull();
    m.stopGarbageCollection();
    await m.saveSSOT('short', { a: 2 }, { ttl: 5 });
    vi.advanceTimersByTime(60_000);
    await new Promise((r) => setImmediate(r));
    expect(runs).toHaveLength(1);
    expect(await m.loadSSOT('short')).toEqual({ a: 2 });
  });

  it('saves, loads and snapshots work under fully faked timers, and advancing them gives new timestamps', async () => {
    const { m } = await manager();
    vi.useFakeTimers();
    const key1 = await m.saveSSOT('versioned-spec', { v: 1 });
    vi.advanceTimersByTime(1000);
    const key2 = await m.saveSSOT('versioned-spec', { v: 2 });
    expect(Date.parse(key2.slice('versioned-spec_'.length)) - Date.parse(key1.slice('versioned-spec_'.length))).toBe(1000);
    expect(await m.loadSSOT('versioned-spec', 1)).toEqual({ v: 1 });
    const tx = await m.beginTransaction();
    await m.saveSSOT('versioned-spec', { v: 3 }, { transactionId: tx });
    await m.commitTransaction(tx);
    expect(await m.loadSnapshot(await m.createSnapshot('none'))).toEqual({});
    vi.useRealTimers();
  });

  it('timestamps follow fake timers set after the manager was created', async () => {
    const { m } = await manager();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2031-05-06T07:08:09.000Z'));
    const key = await m.saveSSOT('when', { a: 1 });
    expect(key).toBe('when_2031-05-06T07:08:09.000Z');
    expect((await m.loadEntry('when'))!.metadata.created).toBe('2031-05-06T07:08:09.000Z');
  });
});

describe('transactions read their own writes', () => {
  it("the original's example: staged data is read before the commit, and gone after a rollback", async () => {
    const { m } = await manager();
    const txId = await m.beginTransaction();
    await m.saveSSOT('rollback-entry', { id: 'rollback' }, { transactionId: txId });
    expect(await m.loadSSOT('rollback-entry')).toEqual({ id: 'rollback' });
    await m.rollbackTransaction(txId);
    expect(await m.loadSSOT('rollback-entry')).toBeNull();
    expect(m.getStatistics().activeTransactions).toBe(0);
  });

  it('staged versions are the newest for loadSSOT, loadEntry and getVersions in the scope or with an explicit transactionId; other scopes see committed data', async () => {
    const { m, root } = await manager();
    await m.saveSSOT('spec', { v: 1 });
    let txId = '';
    const inside = (async () => {
      // A separate async scope: begun after an await, the transaction stays in it.
      await Promise.resolve();
      txId = await m.beginTransaction();
      await m.saveSSOT('spec', { v: 2 });
      expect(await m.loadSSOT('spec')).toEqual({ v: 2 });
      expect(await m.loadSSOT('spec', 1)).toEqual({ v: 1 });
      expect((await m.loadEntry('spec'))!.version).toBe(2);
      expect((await m.getVersions('spec')).map((v) => v.version)).toEqual([2, 1]);
    })();
    await inside;
    // This async scope did not begin the transaction: it reads committed data unless it names it.
    expect(await m.loadSSOT('spec')).toEqual({ v: 1 });
    expect(await m.loadSSOT('spec', { transactionId: txId })).toEqual({ v: 2 });
    expect((await m.getVersions('spec', { transactionId: txId })).map((v) => v.version)).toEqual([2, 1]);
    const other = new EnhancedStateManager(root, { gcInterval: 0 });
    opened.push(other);
    expect(await other.loadSSOT('spec')).toEqual({ v: 1 });
    await m.commitTransaction(txId);
    expect(await m.loadSSOT('spec')).toEqual({ v: 2 });
    expect(await other.loadSSOT('spec')).toEqual({ v: 2 });
  });

  it('the object withTransaction passes works as transactionId and has reading helpers', async () => {
    const { m } = await manager();
    const result = await m.withTransaction(async (tx) => {
      await m.saveSSOT('doc', { n: 1 }, { transactionId: tx });
      await tx.saveSSOT('doc', { n: 2 });
      expect(await m.loadSSOT('doc', { transactionId: tx })).toEqual({ n: 2 });
      expect(await tx.loadSSOT('doc', 1)).toEqual({ n: 1 });
      expect((await tx.getVersions('doc')).length).toBe(2);
      expect(`${tx}`).toBe(tx.id);
      return 'done';
    });
    expect(result).toBe('done');
    expect((await m.getVersions('doc')).map((v) => v.version)).toEqual([2, 1]);
  });
});

describe('error texts of the original', () => {
  it('an unknown transaction id gives "Transaction not found: <id>" for commit, rollback and saves', async () => {
    const { m } = await manager();
    await expect(m.commitTransaction('missing')).rejects.toThrow('Transaction not found: missing');
    await expect(m.rollbackTransaction('missing')).rejects.toThrow('Transaction not found: missing');
    await expect(m.saveSSOT('k', { a: 1 }, { transactionId: 'missing' })).rejects.toMatchObject({
      message: 'Transaction not found: missing',
      code: 'TRANSACTION_NOT_FOUND',
    });
  });

  it('disabled transactions say "Transactions are disabled"', async () => {
    const { m } = await manager({ enableTransactions: false });
    await expect(m.beginTransaction()).rejects.toMatchObject({ message: 'Transactions are disabled', code: 'TRANSACTIONS_DISABLED' });
  });

  it('an imported entry without logicalKey says "Invalid state entry: missing logicalKey"', async () => {
    const { m } = await manager();
    const backup = { metadata: { version: '1.0.0' }, entries: [{ timestamp: new Date().toISOString(), version: 1, data: {}, compressed: false }] };
    await expect(m.importState(backup)).rejects.toThrow('Invalid state entry: missing logicalKey');
  });
});

describe('events and records of the original', () => {
  const artifact = (): FailureArtifact => ({
    id: 'f-1',
    timestamp: new Date().toISOString(),
    phase: 'phase-4',
    type: 'validation',
    error: new Error('Domain invariant violated'),
    context: {},
    artifacts: [],
    retryable: true,
    severity: 'high',
  });

  it('event payloads carry the original fields', async () => {
    const { m } = await manager();
    const seen = new Map<string, Record<string, unknown>>();
    for (const name of ['ssotSaved', 'ssotLoaded', 'snapshotCreated', 'failureArtifactPersisted', 'failure_validation', 'transactionStarted', 'transactionCommitted', 'transactionRolledBack', 'stateImported', 'garbageCollectionCompleted']) {
      m.on(name, (e: Record<string, unknown>) => seen.set(name, e));
    }
    const fullKey = await m.saveSSOT('spec', { a: 1 }, { phase: 'p1' });
    await m.loadSSOT('spec');
    const snapshotId = await m.createSnapshot('p1');
    await m.persistFailureArtifact(artifact());
    await m.rollbackTransaction(await m.beginTransaction());
    const tx = await m.beginTransaction();
    await m.saveSSOT('spec', { a: 2 }, { transactionId: tx });
    await m.commitTransaction(tx);
    await m.importState(await m.exportState());
    await m.collectGarbage();
    expect(seen.get('ssotSaved')).toMatchObject({ logicalKey: 'spec', fullKey: expect.any(String), version: 2, entry: { data: { a: 2 } } });
    expect(seen.get('ssotLoaded')).toMatchObject({ logicalKey: 'spec', fullKey, version: 1 });
    expect(seen.get('snapshotCreated')).toMatchObject({ snapshotId, metadata: { id: snapshotId } });
    expect(seen.get('failureArtifactPersisted')).toMatchObject({ artifact: { id: 'f-1' }, key: expect.stringMatching(/^failure_phase-4_/), timestamp: expect.any(String), cegis_trigger: true });
    expect(seen.get('failure_validation')).toMatchObject({ id: 'f-1' });
    expect(seen.get('transactionStarted')).toMatchObject({ txId: tx });
    expect(seen.get('transactionCommitted')).toMatchObject({ txId: tx, operationCount: 1 });
    expect(seen.get('transactionRolledBack')).toMatchObject({ txId: expect.any(String), operationCount: 0 });
    expect(seen.get('stateImported')).toMatchObject({ entryCount: 3 });
    expect(seen.get('garbageCollectionCompleted')).toMatchObject({ expiredCount: 0 });
  });

  it('snapshot metadata has the original SnapshotMetadata fields, ttl twice defaultTTL', async () => {
    const { m } = await manager({ defaultTTL: 100 });
    await m.saveSSOT('user_spec', { a: 1 }, { phase: 'p2' });
    const id = await m.createSnapshot('p2', ['User']);
    const [metadata] = await m.listSnapshots();
    expect(metadata).toMatchObject({ id, timestamp: expect.any(String), phase: 'p2', entities: ['User'], checksum: expect.stringMatching(/^[0-9a-f]{64}$/), compressed: false, size: JSON.stringify({ a: 1 }).length, ttl: 200 });
    await m.createSnapshot('p3');
    expect((await m.listSnapshots()).find((s) => s.phase === 'p3')!.entities).toEqual([]);
  });

  it("failure versions carry the original's tags and source, and ours under names of their own", async () => {
    const { m } = await manager();
    await m.persistFailureArtifact(artifact());
    const entry = await m.loadEntry('failure_phase-4');
    expect(entry!.tags).toEqual({ type: 'failure', phase: 'phase-4', severity: 'high', retryable: 'true', failureType: 'validation', failureId: 'f-1' });
    expect(entry!.metadata.source).toBe('failure_handler');
    expect((await m.listFailures({ type: 'validation' })).map((f) => f.artifact.id)).toEqual(['f-1']);
  });
});

describe('imports of backups and legacy databases', () => {
  const payload = { id: 'test-large-data', content: 'A'.repeat(100) };
  const entry = (data: unknown, extra: Record<string, unknown> = {}) => ({
    id: 'c0ffee00-0000-4000-8000-000000000001',
    logicalKey: 'byte-import',
    timestamp: '2025-01-20T10:00:00.000Z',
    version: 3,
    checksum: '',
    data,
    compressed: true,
    tags: {},
    metadata: { size: 116, created: '2025-01-20T10:00:00.000Z', accessed: '2025-01-20T10:00:00.000Z', source: 'unknown' },
    ...extra,
  });
  const backup = (entries: unknown[], versionIndex: Record<string, number> = {}) => ({
    metadata: { version: '1.0.0', timestamp: '2025-01-20T10:00:00.000Z', options: {} },
    entries,
    indices: { keyIndex: {}, versionIndex },
  });
  const gz = gzipSync(JSON.stringify(payload));
  const shared = new SharedArrayBuffer(gz.length);
  new Uint8Array(shared).set(gz);

  it.each([
    ['Uint8Array', new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength)],
    ['ArrayBuffer', gz.buffer.slice(gz.byteOffset, gz.byteOffset + gz.byteLength)],
    ['SharedArrayBuffer', shared],
    ["the original's ArrayBuffer marker", { __ae_type: 'ArrayBuffer', bytes: [...gz] }],
  ])('imports compressed data given as %s; an empty checksum is computed', async (_name, bytes) => {
    const { m } = await manager();
    await m.importState(backup([entry(bytes)]));
    expect(await m.loadSSOT('byte-import')).toEqual(payload);
    expect((await m.loadEntry('byte-import'))!.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keeps an entry's id, and an entry without ttl never expires after import", async () => {
    const { m } = await manager({ defaultTTL: 1 });
    await m.importState(backup([entry(payload, { compressed: false }), entry({ older: true }, { compressed: false, id: 'x-2', timestamp: '2025-01-19T10:00:00.000Z', version: 2 })]));
    const loaded = await m.loadEntry('byte-import');
    expect(loaded!.id).toBe('c0ffee00-0000-4000-8000-000000000001');
    expect(loaded!.ttl).toBe(0);
    expect((await m.collectGarbage()).expiredCount).toBe(0);
    expect((await m.getVersions('byte-import')).map((v) => v.version)).toEqual([3, 2]);
  });

  it("honours a versionIndex ahead of the entries: the next save continues after it, in this process and the next", async () => {
    const { m, root } = await manager();
    await m.importState(backup([entry(payload, { compressed: false })], { 'byte-import': 7 }));
    expect((await m.loadEntry('byte-import'))!.version).toBe(3);
    const tx = await m.beginTransaction();
    await m.saveSSOT('byte-import', { staged: true }, { transactionId: tx });
    expect((await m.loadEntry('byte-import', { transactionId: tx }))!.version).toBe(8);
    await m.commitTransaction(tx);
    expect((await m.getVersions('byte-import')).map((v) => v.version)).toEqual([8, 3]);
    const fresh = new EnhancedStateManager(root, { gcInterval: 0 });
    opened.push(fresh);
    await fresh.saveSSOT('byte-import', { next: true });
    expect((await fresh.getVersions('byte-import')).map((v) => v.version)).toEqual([9, 8, 3]);
  });

  it("migrates the original's database file with its binary markers revived as the values they stand for", async () => {
    const root = await tempProject();
    const data = {
      samples: { __ae_type: 'TypedArray', name: 'Int16Array', values: [-2, 300] },
      raw: { __ae_type: 'ArrayBuffer', bytes: [1, 2, 3] },
      view: { __ae_type: 'DataView', bytes: [4, 5] },
      plain: { __ae_type: 'TypedArray', note: 'not a marker' },
    };
    const db = backup([entry(data, { compressed: false, checksum: createHash('sha256').update(JSON.stringify(data)).digest('hex') })]);
    await mkdir(join(root, '.ae'), { recursive: true });
    await writeFile(join(root, '.ae', 'enhanced-state.db'), JSON.stringify(db, null, 2));
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    opened.push(m);
    const loaded = (await m.loadSSOT('byte-import')) as Record<string, unknown>;
    expect(loaded.samples).toEqual(new Int16Array([-2, 300]));
    expect(loaded.raw).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(loaded.raw as ArrayBuffer)]).toEqual([1, 2, 3]);
    expect(loaded.view).toBeInstanceOf(DataView);
    expect(loaded.plain).toEqual(data.plain);
    expect((await m.loadEntry('byte-import'))!.ttl).toBe(0);
  });
});
