import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { StoreContext } from '../../src/manager/context.js';
import type { GarbageCollectionResult } from '../../src/manager/retention.js';
import { serialize } from '../../src/model/codec.js';
import { resolveOptions } from '../../src/model/options.js';
import { FORMAT_VERSION } from '../../src/model/records.js';
import { makeSnapshotId, type SnapshotTree } from '../../src/model/snapshot.js';
import { TagStore } from '../../src/store/tags.js';
import { readAeIr, REPO_ROOT, tempProject } from '../helpers.js';

const T0 = Date.parse('2025-01-20T10:00:00.000Z');
const DAY = 86_400_000;

/** A manager whose clock the test moves; the default TTL is one day. */
async function setup(options = {}) {
  const root = await tempProject();
  const clock = { now: T0 };
  const m = new EnhancedStateManager(root, { gcInterval: 0, defaultTTL: 86_400, recordGitProvenance: false, ...options }, { clock: () => clock.now });
  const objectPath = (checksum: string) => join(m.storeDirectory, 'objects', checksum.slice(0, 2), checksum.slice(2));
  const exists = (path: string) => stat(path).then(() => true, () => false);
  return { root, m, clock, objectPath, exists };
}

describe('garbage collection by time to live', () => {
  it('removes expired versions but keeps the newest version of a key saved without its own ttl', async () => {
    const { m, clock } = await setup();
    await m.saveSSOT('spec', { n: 1 });
    clock.now += 1000;
    await m.saveSSOT('spec', { n: 2 });
    clock.now += 1000;
    const newest = await m.saveSSOT('spec', { n: 3 });
    clock.now += 2 * DAY;
    const events: GarbageCollectionResult[] = [];
    m.on('garbageCollectionCompleted', (e: GarbageCollectionResult) => events.push(e));
    const result = await m.runGarbageCollection();
    expect(result).toMatchObject({ expiredCount: 2, keptAsNewest: 1 });
    expect(events).toEqual([result]);
    expect((await m.getVersions('spec')).map((v) => [v.version, v.key])).toEqual([[3, newest]]);
    expect(await m.loadSSOT('spec')).toEqual({ n: 3 });
    expect(await m.loadSSOT('spec', 1)).toBeNull();
    await m.shutdown();
  });

  it('removes even the newest version once its own explicit ttl has passed', async () => {
    const { m, clock } = await setup();
    await m.saveSSOT('temporary_spec', { draft: true }, { ttl: 60 });
    clock.now += 30_000;
    expect((await m.runGarbageCollection()).expiredCount).toBe(0);
    expect(await m.loadSSOT('temporary_spec')).toEqual({ draft: true });
    clock.now += 31_000;
    expect((await m.runGarbageCollection()).expiredKeys).toHaveLength(1);
    expect(await m.loadSSOT('temporary_spec')).toBeNull();
    await m.shutdown();
  });

  it('keeps versions that have not expired, whatever their age in the key', async () => {
    const { m, clock } = await setup();
    await m.saveSSOT('spec', { n: 1 }, { ttl: 10 * 86_400 });
    await m.saveSSOT('spec', { n: 2 }, { ttl: 60 });
    clock.now += 2 * DAY;
    const result = await m.runGarbageCollection();
    expect(result.expiredCount).toBe(1);
    expect(await m.loadSSOT('spec', 1)).toEqual({ n: 1 });
    expect(await m.loadSSOT('spec', 2)).toBeNull();
    await m.shutdown();
  });
});

describe('garbage collection of objects', () => {
  it('keeps unreferenced objects for the grace period; --prune=now deletes them and returns the space', async () => {
    const { m, clock, objectPath, exists } = await setup();
    const aeir = await readAeIr();
    await m.saveSSOT('spec', aeir);
    const old = (await m.getVersions('spec'))[0]!;
    await m.saveSSOT('spec', { ...aeir, version: '2' });
    clock.now += 2 * DAY;
    const graceful = await m.runGarbageCollection();
    expect(graceful).toMatchObject({ expiredCount: 1, removedObjects: 0 });
    expect(await exists(objectPath(old.checksum))).toBe(true);
    const size = (await stat(objectPath(old.checksum))).size;
    const pruned = await m.runGarbageCollection({ prune: 'now' });
    expect(pruned).toMatchObject({ removedObjects: 1, freedBytes: size });
    expect(await exists(objectPath(old.checksum))).toBe(false);
    expect(await m.loadSSOT('spec')).toEqual({ ...aeir, version: '2' });
    expect((await m.fsck()).problems.filter((p) => p.code === 'unreachable-object')).toEqual([]);
    await m.shutdown();
  });

  it('keeps an object that a retained version shares with an expired one', async () => {
    const { m, clock, objectPath, exists } = await setup();
    await m.saveSSOT('a', { same: true });
    await m.saveSSOT('a', { other: true });
    await m.saveSSOT('b', { same: true });
    const shared = (await m.getVersions('b'))[0]!.checksum;
    clock.now += 2 * DAY;
    const result = await m.runGarbageCollection({ prune: 'now' });
    expect(result.expiredCount).toBe(1);
    expect(await exists(objectPath(shared))).toBe(true);
    expect(await m.loadSSOT('b')).toEqual({ same: true });
    await m.shutdown();
  });

  it('never collects objects staged by an open transaction of another manager', async () => {
    const { root, m, objectPath, exists } = await setup();
    // An object nothing names yet, which the transaction's save then reuses
    // (new content goes into the transaction's pack, invisible until its commit).
    const ctx = new StoreContext(root, resolveOptions({}), new EventEmitter());
    await m.saveSSOT('other', { n: 1 });
    const { checksum } = await ctx.objects.write(serialize({ inTransaction: true }), false);
    const txId = await m.beginTransaction();
    await m.saveSSOT('staged', { inTransaction: true }, { transactionId: txId });
    await m.saveSSOT('staged', { inTransaction: 'packed' }, { transactionId: txId });
    const other = new EnhancedStateManager(root, { gcInterval: 0 });
    await other.runGarbageCollection({ prune: 'now' });
    expect(await exists(objectPath(checksum))).toBe(true);
    await m.commitTransaction(txId);
    expect(await other.getVersions('staged')).toHaveLength(2);
    expect(await other.loadSSOT('staged', 1)).toEqual({ inTransaction: true });
    expect(await other.loadSSOT('staged', 2)).toEqual({ inTransaction: 'packed' });
    await Promise.all([m.shutdown(), other.shutdown()]);
  });

  it('ignores and removes staging files of processes that no longer run', async () => {
    const { root, m, objectPath, exists } = await setup();
    await m.saveSSOT('other', { n: 1 });
    const ctx = new StoreContext(root, resolveOptions({}), new EventEmitter());
    const { checksum } = await ctx.objects.write(serialize({ orphan: true }), false);
    await ctx.objects.syncObjects([checksum]);
    const deadPid = await pidOfExitedProcess();
    const stagingFile = join(m.storeDirectory, 'local', 'staging', 'tx_dead.json');
    await writeFile(stagingFile, JSON.stringify({ txId: 'tx_dead', pid: deadPid, checksums: [checksum] }));
    const result = await m.runGarbageCollection({ prune: 'now' });
    expect(result).toMatchObject({ removedObjects: 1, removedStagingFiles: 1 });
    expect(await exists(objectPath(checksum))).toBe(false);
    expect(await exists(stagingFile)).toBe(false);
    await m.shutdown();
  });

  it('removes refs of commits a dead writer never published once they are past the grace period', async () => {
    const { m, root } = await setup();
    await m.saveSSOT('spec', { n: 1 });
    const ctx = new StoreContext(root, resolveOptions({}), new EventEmitter());
    const [published] = (await ctx.index.list('spec')).versions;
    const debris = { ...published!.record, timestamp: '2030-01-01T00:00:00.000Z', fullKey: 'spec_2030-01-01T00:00:00.000Z', commit: '2030-01-01T00-00-00.000Z_0123456789abcdef' };
    await ctx.refs.write(debris);
    // The publish record a writer leaves when it is killed before its commit point (pid 999999999 does not run).
    await writeFile(join(ctx.layout.staging, `${debris.commit}.999999999.publish`), '');
    const path = ctx.refs.pathOf(debris);
    expect((await m.runGarbageCollection()).removedUnpublishedRefs).toBe(0);
    await utimes(path, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    expect((await m.runGarbageCollection()).removedUnpublishedRefs).toBe(1);
    expect(await m.loadSSOT('spec')).toEqual({ n: 1 });
    await m.shutdown();
  });

  it('never removes a ref whose commit file is missing without a dead writer\'s publish record, and reads refuse the key', async () => {
    const { m, root } = await setup();
    await m.saveSSOT('spec', { n: 1 });
    const ctx = new StoreContext(root, resolveOptions({}), new EventEmitter());
    const [published] = (await ctx.index.list('spec')).versions;
    const orphan = { ...published!.record, timestamp: '2030-01-01T00:00:00.000Z', fullKey: 'spec_2030-01-01T00:00:00.000Z', commit: '2030-01-01T00-00-00.000Z_0123456789abcdef' };
    await ctx.refs.write(orphan);
    const path = ctx.refs.pathOf(orphan);
    await utimes(path, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    expect((await m.runGarbageCollection({ prune: 'now' })).removedUnpublishedRefs).toBe(0);
    await expect(m.loadSSOT('spec')).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(m.saveSSOT('spec', { n: 2 })).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect((await readdir(dirname(path))).length).toBe(2);
    await m.shutdown();
  });

  it('keeps expired versions that a snapshot names, and their data', async () => {
    const { m, root, clock, objectPath, exists } = await setup();
    await m.saveSSOT('spec', { n: 1 }, { ttl: 60, phase: 'phase-1' });
    await m.saveSSOT('spec', { n: 2 }, { ttl: 60, phase: 'phase-1' });
    const [v2, v1] = await m.getVersions('spec');
    await writeSnapshot(root, 'phase-1', [v1!]);
    clock.now += DAY;
    const result = await m.runGarbageCollection({ prune: 'now' });
    expect(result).toMatchObject({ expiredCount: 1, keptBySnapshot: 1, expiredKeys: [v2!.key] });
    expect(await m.loadSSOT('spec', 1)).toEqual({ n: 1 });
    expect(await exists(objectPath(v1!.checksum))).toBe(true);
    expect(await exists(objectPath(v2!.checksum))).toBe(false);
    await m.shutdown();
  });
});

describe('the garbage collection timer', () => {
  it('runs every gcInterval seconds while the manager is open, and stops on shutdown', async () => {
    const { m, clock } = await setup({ gcInterval: 0.05 });
    await m.saveSSOT('spec', { n: 1 }, { ttl: 1 });
    clock.now += 5000;
    const completed = new Promise<GarbageCollectionResult>((resolve) => m.once('garbageCollectionCompleted', resolve));
    expect((await completed).expiredCount).toBe(1);
    await m.shutdown();
    let runsAfterShutdown = 0;
    m.on('garbageCollectionCompleted', () => runsAfterShutdown++);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runsAfterShutdown).toBe(0);
  });

  it('does not keep the process alive', async () => {
    const root = await tempProject();
    const script = `
      const { EnhancedStateManager } = await import(${JSON.stringify(join(REPO_ROOT, 'dist', 'src', 'index.js'))});
      const m = new EnhancedStateManager(${JSON.stringify(root)}, { gcInterval: 1 });
      await m.saveSSOT('spec', { n: 1 });
      console.log('saved');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A generous limit so a hanging process fails the test instead of the whole run.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    expect({ code, signal, output: output.trim() }).toEqual({ code: 0, signal: null, output: 'saved' });
  });
});

describe('statistics', () => {
  it('reports bytes on disk, object count and what deduplication and compression save', async () => {
    const { m } = await setup();
    const aeir = await readAeIr();
    await m.saveSSOT('a', aeir);
    await m.saveSSOT('b', aeir);
    await m.saveSSOT('c', { small: 1 });
    const s = m.getStatistics();
    const aeirSize = serialize(aeir).length;
    expect(s).toMatchObject({ totalEntries: 3, logicalKeys: 3, objectCount: 2, dedupSavedBytes: aeirSize, compressedEntries: 2 });
    expect(s.compressionSavedBytes).toBe(aeirSize + serialize({ small: 1 }).length - s.objectBytes);
    expect(s.compressionSavedBytes).toBeGreaterThan(0);
    expect(s.diskBytes).toBeGreaterThan(s.objectBytes);
    await m.shutdown();
  });
});

async function listObjects(store: string): Promise<string[]> {
  const objects: string[] = [];
  for (const fanout of await readdir(join(store, 'objects'))) {
    for (const name of await readdir(join(store, 'objects', fanout))) objects.push(fanout + name);
  }
  return objects;
}

async function pidOfExitedProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

/** Writes a snapshot tag and tree with the store primitives, as createSnapshot does. */
async function writeSnapshot(root: string, phase: string, versions: Array<{ key: string; checksum: string; version: number; size: number; compressed: boolean }>) {
  const ctx = new StoreContext(root, resolveOptions({}), new EventEmitter());
  const timestamp = new Date().toISOString();
  const snapshotId = makeSnapshotId(phase, timestamp);
  const tree: SnapshotTree = {
    format: FORMAT_VERSION,
    type: 'tree',
    snapshotId,
    phase,
    entities: null,
    timestamp,
    entries: versions.map((v) => ({
      fullKey: v.key,
      logicalKey: v.key.slice(0, v.key.lastIndexOf('_')),
      version: v.version,
      checksum: v.checksum,
      size: v.size,
      compressed: v.compressed,
      tags: {},
      source: 'unknown',
      created: timestamp,
    })),
  };
  const stored = await ctx.objects.write(serialize(tree), false);
  await new TagStore(ctx.fs, ctx.layout, ctx.objects).write({ format: FORMAT_VERSION, snapshotId, tree: stored.checksum, created: timestamp });
}
