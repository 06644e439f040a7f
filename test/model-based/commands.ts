/**
 * fast-check commands that drive the real store and the model side by side.
 * Managers 0 and 1 are two instances on store A, manager 2 is on store B
 * (the target of cross-store imports). After every command both stores must
 * agree with the model, `fsck` must find no error, and the statistics index
 * must give what a full read gives.
 */
import fc from 'fast-check';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { scanStatistics } from '../../src/manager/statistics.js';
import { bytesUnder } from '../helpers.js';
import { DEFAULT_TTL_SECONDS, importBackup, MAX_VERSIONS, mergeHasTies, mergeStores, StoreModel, type ModelSnapshot, type ModelStaged } from './model.js';

export const COMPRESSION_THRESHOLD = 64;
/** Latin "data" and Cyrillic "dаta": confusable, yet distinct keys that must never collide. */
export const KEYS = ['data', 'd\u0430ta', 'user_spec', 'phase5.domain_model'] as const;
export const PHASES = ['p1', 'p2'] as const;
const MANAGERS = 3;

export interface Model {
  stores: [StoreModel, StoreModel];
  now: number;
  /** Staged saves of each manager's open explicit transaction. */
  tx: Array<ModelStaged[] | null>;
  /** Exported archives: the snapshot as it was exported, and where. */
  archives: ModelSnapshot[];
}

export interface Real {
  roots: [string, string];
  tarDir: string;
  clock: { now: number };
  managers: EnhancedStateManager[];
  txIds: Array<string | null>;
}

export const counters = { sequences: 0, commands: 0, fscks: 0 };

const storeOf = (m: number): 0 | 1 => (m < 2 ? 0 : 1);

export function openManager(real: Real, m: number): EnhancedStateManager {
  return new EnhancedStateManager(
    real.roots[storeOf(m)],
    { gcInterval: 0, defaultTTL: DEFAULT_TTL_SECONDS, maxVersions: MAX_VERSIONS, compressionThreshold: COMPRESSION_THRESHOLD, recordGitProvenance: false },
    { clock: () => real.clock.now },
  );
}

export async function setup(): Promise<{ model: Model; real: Real }> {
  const base = await mkdtemp(join(tmpdir(), 'ae-state-model-'));
  const now = Date.parse('2025-01-20T10:00:00.000Z');
  const real: Real = { roots: [join(base, 'a'), join(base, 'b')], tarDir: base, clock: { now }, managers: [], txIds: [null, null, null] };
  for (let m = 0; m < MANAGERS; m++) real.managers.push(openManager(real, m));
  const model: Model = { stores: [new StoreModel(), new StoreModel()], now, tx: [null, null, null], archives: [] };
  return { model, real };
}

export async function teardown(real: Real): Promise<void> {
  for (const manager of real.managers) await manager.shutdown();
  await rm(real.tarDir, { recursive: true, force: true });
}

/** The store and the model agree on every key's versions and latest data, the snapshots, and fsck is clean. */
export async function checkAgreement(model: Model, real: Real, stores: ReadonlyArray<0 | 1> = [0, 1]): Promise<void> {
  for (const m of [0, 1, 2].filter((i) => stores.includes(storeOf(i)))) {
    const store = model.stores[storeOf(m)];
    const manager = real.managers[m]!;
    for (const key of KEYS) {
      const expected = store.versionsOf(key).map((v) => ({ version: v.version, key: v.fullKey, compressed: JSON.stringify(v.data).length > COMPRESSION_THRESHOLD }));
      const actual = (await manager.getVersions(key)).map((v) => ({ version: v.version, key: v.key, compressed: v.compressed }));
      expect(actual).toEqual(expected.reverse());
      if (m !== 1) expect(await manager.loadSSOT(key)).toEqual(store.latest(key)?.data ?? null);
    }
    if (m === 1) continue;
    expect((await manager.listSnapshots()).map((s) => s.snapshotId).sort()).toEqual([...store.snapshots.keys()].sort());
    const report = await manager.fsck();
    counters.fscks++;
    expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
    await expectIndexedStatistics(manager, real.managers);
  }
}

type Internals = { ctx: Parameters<typeof scanStatistics>[0] & { index: { flush(): Promise<void> } }; statisticsIndex: { flush(): Promise<void> } };

/**
 * The statistics index gives what a full scan of every ref and object gives
 * (the index's own files and the ref checks left out of its bytes), once no
 * manager has a write of those caches in flight: their temporary files would
 * be counted by one and not the other.
 */
async function expectIndexedStatistics(manager: EnhancedStateManager, all: readonly EnhancedStateManager[]): Promise<void> {
  for (const each of all as unknown as Internals[]) await Promise.all([each.ctx.index.flush(), each.statisticsIndex.flush()]);
  const internals = manager as unknown as Internals;
  const stats = manager.getStatistics();
  await internals.statisticsIndex.flush();
  const scan = scanStatistics(internals.ctx, stats.activeTransactions);
  const own = (await bytesUnder(join(manager.storeDirectory, 'local', 'stats'))) + (await bytesUnder(join(manager.storeDirectory, 'local', 'checked')));
  const expected = { ...scan, diskBytes: scan.diskBytes - own };
  expect(stats).toEqual(expected);
}

abstract class StoreCommand implements fc.AsyncCommand<Model, Real> {
  check(_model: Readonly<Model>): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    counters.commands++;
    await this.apply(model, real);
    // Only the store the command used can have changed.
    const m = (this as { m?: number }).m;
    if (m !== undefined) await checkAgreement(model, real, [storeOf(m)]);
  }
  protected abstract apply(model: Model, real: Real): Promise<void>;
  abstract toString(): string;
}

export interface SaveSpec {
  key: string;
  data: unknown;
  ttl?: number;
  phase?: string;
}

function stagedOf(save: SaveSpec, now: number): ModelStaged {
  const staged: ModelStaged = { logicalKey: save.key, data: save.data, created: now, timestamp: new Date(now).toISOString() };
  if (save.ttl !== undefined) staged.ttl = save.ttl;
  if (save.phase !== undefined) staged.phase = save.phase;
  return staged;
}

function saveOptions(save: SaveSpec, transactionId?: string) {
  return { ...(save.ttl === undefined ? {} : { ttl: save.ttl }), ...(save.phase === undefined ? {} : { phase: save.phase }), ...(transactionId ? { transactionId } : {}) };
}

/** Saves that commit on their own; several in one command share a millisecond. */
export class SaveCommand extends StoreCommand {
  constructor(readonly m: number, readonly saves: SaveSpec[]) {
    super();
  }
  protected async apply(model: Model, real: Real) {
    for (const save of this.saves) {
      const fullKey = await real.managers[this.m]!.saveSSOT(save.key, save.data, saveOptions(save));
      const [published] = model.stores[storeOf(this.m)].publish([stagedOf(save, model.now)], model.now, { enforceMaxVersions: true });
      expect(fullKey).toBe(published!.fullKey);
    }
  }
  toString() {
    return `save(m${this.m}, ${JSON.stringify(this.saves)})`;
  }
}

/**
 * Saves started together (`Promise.all`), which the store may publish in one
 * commit: each must come out as if saved alone, one after another in call
 * order.
 */
export class ConcurrentSaveCommand extends StoreCommand {
  constructor(readonly m: number, readonly saves: SaveSpec[]) {
    super();
  }
  protected async apply(model: Model, real: Real) {
    const manager = real.managers[this.m]!;
    const fullKeys = await Promise.all(this.saves.map((save) => manager.saveSSOT(save.key, save.data, saveOptions(save))));
    const expected = this.saves.map((save) => model.stores[storeOf(this.m)].publish([stagedOf(save, model.now)], model.now, { enforceMaxVersions: true })[0]!);
    expect(fullKeys).toEqual(expected.map((v) => v.fullKey));
  }
  toString() {
    return `concurrent-save(m${this.m}, ${JSON.stringify(this.saves)})`;
  }
}

export class TickCommand extends StoreCommand {
  constructor(readonly ms: number) {
    super();
  }
  protected async apply(model: Model, real: Real) {
    model.now += this.ms;
    real.clock.now = model.now;
  }
  toString() {
    return `tick(${this.ms} ms)`;
  }
}

export class LoadCommand extends StoreCommand {
  constructor(readonly m: number, readonly key: string, readonly version: number) {
    super();
  }
  protected async apply(model: Model, real: Real) {
    const expected = model.stores[storeOf(this.m)].versionsOf(this.key).find((v) => v.version === this.version);
    const entry = await real.managers[this.m]!.loadEntry(this.key, this.version);
    expect(entry === null ? null : { id: entry.id, data: entry.data, ttl: entry.ttl }).toEqual(
      expected === undefined ? null : { id: expected.fullKey, data: expected.data, ttl: expected.ttl ?? DEFAULT_TTL_SECONDS },
    );
  }
  toString() {
    return `load(m${this.m}, ${this.key}, v${this.version})`;
  }
}

/** Runs `begin` where its async-context scope cannot leak into later commands. */
function beginDetached(manager: EnhancedStateManager): Promise<string> {
  return new Promise((resolve, reject) => setImmediate(() => manager.beginTransaction().then(resolve, reject)));
}

export class BeginTxCommand extends StoreCommand {
  constructor(readonly m: number) {
    super();
  }
  override check(model: Readonly<Model>) {
    return model.tx[this.m] === null;
  }
  protected async apply(model: Model, real: Real) {
    real.txIds[this.m] = await beginDetached(real.managers[this.m]!);
    model.tx[this.m] = [];
  }
  toString() {
    return `begin(m${this.m})`;
  }
}

export class TxSaveCommand extends StoreCommand {
  constructor(readonly m: number, readonly save: SaveSpec) {
    super();
  }
  override check(model: Readonly<Model>) {
    return model.tx[this.m] !== null;
  }
  protected async apply(model: Model, real: Real) {
    const manager = real.managers[this.m]!;
    const transactionId = real.txIds[this.m]!;
    await manager.saveSSOT(this.save.key, this.save.data, saveOptions(this.save, transactionId));
    model.tx[this.m]!.push(stagedOf(this.save, model.now));
    // The transaction reads its own staged saves as the newest versions (checkAgreement proves that nobody else does).
    const stagedOfKey = model.tx[this.m]!.filter((s) => s.logicalKey === this.save.key).length;
    const [newest] = await manager.getVersions(this.save.key, { transactionId });
    expect(newest?.version).toBe((model.stores[storeOf(this.m)].latest(this.save.key)?.version ?? 0) + stagedOfKey);
    expect(await manager.loadSSOT(this.save.key, { transactionId })).toEqual(this.save.data);
  }
  toString() {
    return `txSave(m${this.m}, ${JSON.stringify(this.save)})`;
  }
}

export class EndTxCommand extends StoreCommand {
  constructor(readonly m: number, readonly outcome: 'commit' | 'rollback') {
    super();
  }
  override check(model: Readonly<Model>) {
    return model.tx[this.m] !== null;
  }
  protected async apply(model: Model, real: Real) {
    const manager = real.managers[this.m]!;
    const id = real.txIds[this.m]!;
    const staged = model.tx[this.m]!;
    model.tx[this.m] = null;
    real.txIds[this.m] = null;
    if (this.outcome === 'rollback') return manager.rollbackTransaction(id);
    const keys = await manager.commitTransaction(id);
    const published = model.stores[storeOf(this.m)].publish(staged, model.now, { enforceMaxVersions: true });
    expect(keys).toEqual(published.map((v) => v.fullKey));
  }
  toString() {
    return `${this.outcome}(m${this.m})`;
  }
}

/** A transaction opened and finished within one async flow: saves join it implicitly. */
export class TxBlockCommand extends StoreCommand {
  constructor(readonly m: number, readonly saves: SaveSpec[], readonly style: 'commit' | 'rollback' | 'with' | 'with-throw') {
    super();
  }
  protected async apply(model: Model, real: Real) {
    const manager = real.managers[this.m]!;
    const committed = await runBlock(manager, this.saves, this.style);
    if (!committed) return;
    const staged = this.saves.map((save) => stagedOf(save, model.now));
    if (staged.length > 0) model.stores[storeOf(this.m)].publish(staged, model.now, { enforceMaxVersions: true });
  }
  toString() {
    return `txBlock(m${this.m}, ${this.style}, ${JSON.stringify(this.saves)})`;
  }
}

async function runBlock(manager: EnhancedStateManager, saves: SaveSpec[], style: TxBlockCommand['style']): Promise<boolean> {
  if (style === 'with' || style === 'with-throw') {
    const outcome = await manager
      .withTransaction(async () => {
        for (const save of saves) await manager.saveSSOT(save.key, save.data, saveOptions(save));
        if (style === 'with-throw') throw new Error('abort');
      })
      .then(() => true, (error: Error) => (error.message === 'abort' ? false : Promise.reject(error)));
    return outcome;
  }
  return new Promise<boolean>((resolve, reject) =>
    setImmediate(async () => {
      try {
        const id = await manager.beginTransaction();
        for (const save of saves) await manager.saveSSOT(save.key, save.data, saveOptions(save));
        if (style === 'commit') await manager.commitTransaction(id);
        else await manager.rollbackTransaction(id);
        resolve(style === 'commit');
      } catch (error) {
        reject(error);
      }
    }),
  );
}

export class SnapshotCommand extends StoreCommand {
  constructor(readonly m: number, readonly phase: string) {
    super();
  }
  protected async apply(model: Model, real: Real) {
    const id = await real.managers[this.m]!.createSnapshot(this.phase);
    expect(id).toBe(model.stores[storeOf(this.m)].createSnapshot(this.phase, model.now).snapshotId);
  }
  toString() {
    return `snapshot(m${this.m}, ${this.phase})`;
  }
}

function pickSnapshot(store: StoreModel, index: number): ModelSnapshot | undefined {
  const ids = [...store.snapshots.keys()].sort();
  return ids.length === 0 ? undefined : store.snapshots.get(ids[index % ids.length]!);
}

export class LoadSnapshotCommand extends StoreCommand {
  constructor(readonly m: number, readonly index: number) {
    super();
  }
  protected async apply(model: Model, real: Real) {
    const snapshot = pickSnapshot(model.stores[storeOf(this.m)], this.index);
    const loaded = await real.managers[this.m]!.loadSnapshot(snapshot?.snapshotId ?? 'snapshot_p1_2000-01-01T00:00:00.000Z');
    if (snapshot === undefined) return expect(loaded).toBeNull();
    const actual = Object.fromEntries(Object.entries(loaded!).map(([k, e]) => [k, { data: e.data, version: e.version }]));
    const expected = Object.fromEntries([...snapshot.entries].map(([k, v]) => [k, { data: v.data, version: v.version }]));
    expect(actual).toEqual(expected);
  }
  toString() {
    return `loadSnapshot(m${this.m}, #${this.index})`;
  }
}

export class DeleteSnapshotCommand extends StoreCommand {
  constructor(readonly m: number, readonly index: number) {
    super();
  }
  override check(model: Readonly<Model>) {
    return model.stores[storeOf(this.m)].snapshots.size > 0;
  }
  protected async apply(model: Model, real: Real) {
    const snapshot = pickSnapshot(model.stores[storeOf(this.m)], this.index)!;
    expect(await real.managers[this.m]!.deleteSnapshot(snapshot.snapshotId)).toBe(true);
    model.stores[storeOf(this.m)].snapshots.delete(snapshot.snapshotId);
  }
  toString() {
    return `deleteSnapshot(m${this.m}, #${this.index})`;
  }
}

export class ExportCommand extends StoreCommand {
  constructor(readonly m: number, readonly index: number) {
    super();
  }
  override check(model: Readonly<Model>) {
    return model.stores[storeOf(this.m)].snapshots.size > 0;
  }
  protected async apply(model: Model, real: Real) {
    const snapshot = pickSnapshot(model.stores[storeOf(this.m)], this.index)!;
    const path = join(real.tarDir, `archive-${model.archives.length}.tar`);
    const result = await real.managers[this.m]!.exportSnapshot(snapshot.snapshotId, path);
    expect(result.entryCount).toBe(snapshot.entries.size);
    model.archives.push({ ...snapshot, entries: new Map(snapshot.entries) });
  }
  toString() {
    return `export(m${this.m}, #${this.index})`;
  }
}

export class ImportCommand extends StoreCommand {
  constructor(readonly m: number, readonly index: number) {
    super();
  }
  override check(model: Readonly<Model>) {
    return model.archives.length > 0;
  }
  protected async apply(model: Model, real: Real) {
    const index = this.index % model.archives.length;
    const expected = model.stores[storeOf(this.m)].importSnapshot(model.archives[index]!, model.now);
    const outcome = await real.managers[this.m]!.importSnapshot(join(real.tarDir, `archive-${index}.tar`)).then(
      (r) => ({ published: r.published, present: r.present, older: r.older }),
      (error: { code?: string }) => (error.code === 'INVALID_ARGUMENT' ? ('conflict' as const) : Promise.reject(error)),
    );
    expect(outcome).toEqual(expected);
  }
  toString() {
    return `import(m${this.m}, archive #${this.index})`;
  }
}

/** Imports a JSON backup (`exportState`) of one store into manager `m`'s: re-imports, imports into another store, older versions. */
export class BackupImportCommand extends StoreCommand {
  constructor(readonly from: 0 | 1, readonly m: number) {
    super();
  }
  protected async apply(model: Model, real: Real) {
    const source = model.stores[this.from];
    const versions = [...source.keys.values()].flat().map((v) => ({ ...v }));
    const backup = JSON.parse(JSON.stringify(await real.managers[this.from === 0 ? 0 : 2]!.exportState()));
    const expected = importBackup(model.stores[storeOf(this.m)], versions, model.now);
    const result = await real.managers[this.m]!.importState(backup);
    expect({ published: result.published, present: result.present, older: result.older }).toEqual(expected);
  }
  toString() {
    return `importBackup(store ${this.from} -> m${this.m})`;
  }
}

/**
 * Copies store B's version records, commits and objects into store A, as a
 * `git merge` of two clones would bring them (snapshot tags stay behind).
 * Only when no key has a version at one timestamp in both: the order of such
 * a tie is the store's choice (by commit suffix), tested with real git in
 * test/git/merge-numbers.test.ts.
 */
export class MergeCommand extends StoreCommand {
  readonly m = 0;
  override check(model: Readonly<Model>) {
    return !mergeHasTies(model.stores[0], model.stores[1]);
  }
  protected async apply(model: Model, real: Real) {
    for (const part of ['refs/keys', 'commits', 'objects']) {
      await cp(join(real.roots[1], '.ae', part), join(real.roots[0], '.ae', part), { recursive: true, force: false, errorOnExist: false }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    mergeStores(model.stores[0], model.stores[1]);
  }
  toString() {
    return 'merge(store 1 -> store 0)';
  }
}

export class GcCommand extends StoreCommand {
  constructor(readonly m: number) {
    super();
  }
  protected async apply(model: Model, real: Real) {
    const result = await real.managers[this.m]!.runGarbageCollection({ prune: 'now' });
    expect(result.expiredCount).toBe(model.stores[storeOf(this.m)].collectGarbage(model.now));
  }
  toString() {
    return `gc(m${this.m})`;
  }
}

/** Shuts a manager down (rolling back its open transaction) and opens a new one on the same root. */
export class ReopenCommand extends StoreCommand {
  constructor(readonly m: number) {
    super();
  }
  protected async apply(model: Model, real: Real) {
    await real.managers[this.m]!.shutdown();
    real.managers[this.m] = openManager(real, this.m);
    real.txIds[this.m] = null;
    model.tx[this.m] = null;
  }
  toString() {
    return `reopen(m${this.m})`;
  }
}

const manager = fc.integer({ min: 0, max: MANAGERS - 1 });
const key = fc.constantFrom(...KEYS);
/** Payloads either side of the compression threshold. */
const data = fc.oneof(
  fc.record({ n: fc.integer(), text: fc.string({ maxLength: 2 * COMPRESSION_THRESHOLD }) }),
  fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 40 }),
  fc.constantFrom(null, true, 'same', 0),
);
const saveSpec: fc.Arbitrary<SaveSpec> = fc.record(
  { key, data, ttl: fc.constantFrom(2, 20), phase: fc.constantFrom(...PHASES) },
  { requiredKeys: ['key', 'data'] },
);

/** Every command, weighted so that saves and clock moves dominate. */
export const allCommands = [
  fc.tuple(manager, fc.array(saveSpec, { minLength: 1, maxLength: 3 })).map(([m, s]) => new SaveCommand(m, s)),
  fc.tuple(manager, fc.array(saveSpec, { minLength: 1, maxLength: 3 })).map(([m, s]) => new SaveCommand(m, s)),
  fc.tuple(manager, fc.array(saveSpec, { minLength: 2, maxLength: 6 })).map(([m, s]) => new ConcurrentSaveCommand(m, s)),
  fc.constantFrom(0, 1, 2).map((ms) => new TickCommand(ms)),
  fc.integer({ min: 1, max: 25 }).map((s) => new TickCommand(s * 1000)),
  fc.tuple(manager, key, fc.integer({ min: 1, max: 6 })).map(([m, k, v]) => new LoadCommand(m, k, v)),
  manager.map((m) => new BeginTxCommand(m)),
  fc.tuple(manager, saveSpec).map(([m, s]) => new TxSaveCommand(m, s)),
  fc.tuple(manager, fc.constantFrom('commit' as const, 'rollback' as const)).map(([m, o]) => new EndTxCommand(m, o)),
  fc
    .tuple(manager, fc.array(saveSpec, { maxLength: 3 }), fc.constantFrom('commit' as const, 'rollback' as const, 'with' as const, 'with-throw' as const))
    .map(([m, s, style]) => new TxBlockCommand(m, s, style)),
  fc.tuple(manager, fc.constantFrom(...PHASES)).map(([m, p]) => new SnapshotCommand(m, p)),
  fc.tuple(manager, fc.nat(5)).map(([m, i]) => new LoadSnapshotCommand(m, i)),
  fc.tuple(manager, fc.nat(5)).map(([m, i]) => new DeleteSnapshotCommand(m, i)),
  fc.tuple(manager, fc.nat(5)).map(([m, i]) => new ExportCommand(m, i)),
  fc.tuple(manager, fc.nat(5)).map(([m, i]) => new ImportCommand(m, i)),
  manager.map((m) => new GcCommand(m)),
  manager.map((m) => new ReopenCommand(m)),
  fc.tuple(fc.constantFrom(0 as const, 1 as const), manager).map(([from, m]) => new BackupImportCommand(from, m)),
  fc.constant(new MergeCommand()),
];
