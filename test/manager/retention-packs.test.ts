/**
 * Garbage collection and fsck of packs, through the manager: a pack nothing
 * names goes after the grace period, a pack mostly garbage is repacked into
 * one holding only its live objects, objects an open transaction staged
 * stay, a damaged pack is reported as such and moved aside by repair with
 * its intact objects kept; statistics count packed objects.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { packDecision } from '../../src/manager/retention-packs.js';
import { decodeMultiPackIndex } from '../../src/model/multi-pack-index.js';
import { bytesUnder, tempProject } from '../helpers.js';

const packDir = (m: EnhancedStateManager) => join(m.storeDirectory, 'objects', 'pack');
const packNames = async (m: EnhancedStateManager) => (await readdir(packDir(m)).catch(() => [])).sort();
const looseCount = async (m: EnhancedStateManager) => {
  let count = 0;
  for (const name of await readdir(join(m.storeDirectory, 'objects'))) if (name !== 'pack') count += (await readdir(join(m.storeDirectory, 'objects', name))).length;
  return count;
};

async function manager(options = {}) {
  const root = await tempProject();
  return { root, m: new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false, ...options }) };
}

async function commitTransaction(m: EnhancedStateManager, tag: string, n: number, key = (i: number) => `${tag}${i}`) {
  await m.withTransaction(async (tx) => {
    for (let i = 0; i < n; i++) await tx.saveSSOT(key(i), { tag, i });
  });
}

describe('garbage collection of packs', () => {
  it('decides per pack: keep what is all live, remove what is all garbage, repack what is mostly garbage', () => {
    const entries = ['a', 'b', 'c', 'd'].map((checksum, i) => ({ checksum, offset: 8 + i, length: 1 }));
    expect(packDecision(entries, new Set(['a', 'b', 'c', 'd'])).action).toBe('keep');
    expect(packDecision(entries, new Set(['a', 'b', 'c'])).action).toBe('keep');
    expect(packDecision(entries, new Set(['a', 'b'])).action).toBe('repack');
    expect(packDecision(entries, new Set()).action).toBe('remove');
  });

  it('removes a pack none of whose objects is named, only after the grace period', async () => {
    const clock = { now: Date.parse('2025-01-20T10:00:00.000Z') };
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false }, { clock: () => clock.now });
    await m.withTransaction(async (tx) => {
      for (let i = 0; i < 10; i++) await tx.saveSSOT(`short${i}`, { i }, { ttl: 1 });
    });
    await m.saveSSOT('keep', { n: 1 });
    expect(await packNames(m)).toHaveLength(2);
    clock.now += 10_000;
    const first = await m.runGarbageCollection();
    expect(first.expiredCount).toBe(10);
    // Within the grace period (the pack was written just now) it stays.
    expect(await packNames(m)).toHaveLength(2);
    const second = await m.runGarbageCollection({ prune: 'now' });
    expect(second.removedObjects).toBe(10);
    expect(await packNames(m)).toEqual([]);
    expect(await m.loadSSOT('keep')).toEqual({ n: 1 });
    await m.shutdown();
  });

  it('keeps packed objects an open transaction of another manager reuses, through a repack', async () => {
    const { root, m } = await manager({ maxVersions: 1 });
    await commitTransaction(m, 'a', 10, (i) => (i < 2 ? `live${i}` : `gone${i % 2}`));
    const other = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    const txId = await other.beginTransaction();
    // Content of a version about to be pushed out: reused from the pack, named only by the staging index.
    await other.saveSSOT('again', { tag: 'a', i: 8 }, { transactionId: txId });
    for (let i = 0; i < 2; i++) await m.saveSSOT(`gone${i}`, { replaced: i });
    await m.runGarbageCollection({ prune: 'now' });
    await other.commitTransaction(txId);
    expect(await m.loadSSOT('again')).toEqual({ tag: 'a', i: 8 });
    expect((await m.fsck()).ok).toBe(true);
    await Promise.all([m.shutdown(), other.shutdown()]);
  });

  it('repacks a pack most of whose objects are garbage, and everything named still loads', async () => {
    const { m } = await manager({ maxVersions: 1 });
    await commitTransaction(m, 'a', 10, (i) => (i < 3 ? `live${i}` : `gone${i % 3}`));
    // The next saves of the "gone" keys push their packed versions out (maxVersions 1).
    for (let i = 0; i < 3; i++) await m.saveSSOT(`gone${i}`, { replaced: i });
    const before = await packNames(m);
    const result = await m.runGarbageCollection({ prune: 'now' });
    const after = await packNames(m);
    expect(after).toHaveLength(2);
    expect(after).not.toEqual(before);
    expect(result.removedObjects).toBe(7);
    for (let i = 0; i < 3; i++) expect(await m.loadSSOT(`live${i}`)).toEqual({ tag: 'a', i });
    for (let i = 0; i < 3; i++) expect(await m.loadSSOT(`gone${i}`)).toEqual({ replaced: i });
    expect((await m.fsck()).ok).toBe(true);
    await m.shutdown();
  });
});

describe('fsck of packs', () => {
  it('reports a damaged pack with a kind of its own; repair keeps its intact objects and moves it to local/corrupt/', async () => {
    const { m } = await manager();
    await commitTransaction(m, 'p', 6);
    const [idxName, packName] = await packNames(m);
    const pack = join(packDir(m), packName!);
    const bytes = await readFile(pack);
    bytes[bytes.length - 3]! ^= 0xff; // Inside the last object.
    await writeFile(pack, bytes);
    const report = await m.fsck();
    expect(report.ok).toBe(false);
    const damaged = report.problems.filter((p) => p.code === 'damaged-pack');
    expect(damaged.length).toBeGreaterThanOrEqual(1);
    expect(damaged.every((p) => p.path === pack && p.severity === 'error')).toBe(true);
    const repaired = await m.fsck({ repair: true });
    expect(repaired.problems.find((p) => p.code === 'damaged-pack')?.repaired).toBe('moved-aside');
    expect(await packNames(m)).toEqual([]);
    const corrupt = await readdir(join(m.storeDirectory, 'local', 'corrupt', 'objects'));
    expect(corrupt.some((name) => name.includes(packName!))).toBe(true);
    expect(corrupt.some((name) => name.includes(idxName!))).toBe(true);
    // Five of the six objects verified and were kept, as loose objects.
    expect(await looseCount(m)).toBe(5);
    // The version of the damaged object was moved aside with it; the other five read back.
    const loaded = await Promise.all(Array.from({ length: 6 }, (_, i) => m.loadSSOT(`p${i}`)));
    expect(loaded.filter((data) => data !== null)).toHaveLength(5);
    expect((await m.fsck()).ok).toBe(true);
    await m.shutdown();
  });
});

describe('statistics with packs', () => {
  it('counts packed objects and their bytes as getStatistics does for loose ones, through its index too', async () => {
    const { root, m } = await manager();
    const { scanStatistics } = await import('../../src/manager/statistics.js');
    const { StoreContext } = await import('../../src/manager/context.js');
    const { resolveOptions } = await import('../../src/model/options.js');
    const { EventEmitter } = await import('node:events');
    const index = (m as unknown as { statisticsIndex: { flush(): Promise<void> } }).statisticsIndex;
    // The figures a full scan of every ref, object and pack gives now, the index's own files and the ref checks left out of diskBytes.
    const scanned = async () => {
      await index.flush();
      const full = scanStatistics(new StoreContext(root, resolveOptions({}), new EventEmitter()), 0);
      return { ...full, diskBytes: full.diskBytes - (await bytesUnder(join(root, '.ae', 'local', 'stats'))) - (await bytesUnder(join(root, '.ae', 'local', 'checked'))) };
    };
    await commitTransaction(m, 's', 8);
    await m.saveSSOT('loose', { n: 1 });
    const stats = m.getStatistics();
    expect(stats.objectCount).toBe(9);
    expect(stats.totalEntries).toBe(9);
    expect(stats).toEqual(await scanned());
    // Another pack, then a loose save only: the index follows both.
    await commitTransaction(m, 't', 3);
    expect(m.getStatistics()).toEqual(await scanned());
    await m.saveSSOT('loose', { n: 2 });
    const after = m.getStatistics();
    expect(after.objectCount).toBe(13);
    expect(after).toEqual(await scanned());
    // GC combining or removing packs is followed too.
    await m.runGarbageCollection({ prune: 'now' });
    expect(m.getStatistics()).toEqual(await scanned());
    // Directories old enough to be trusted: the next reads keep the packed objects from the index alone.
    const { utimes } = await import('node:fs/promises');
    const past = new Date(Date.now() - 10_000);
    const objectsDir = join(root, '.ae', 'objects');
    for (const name of await readdir(objectsDir)) await utimes(join(objectsDir, name), past, past);
    expect(m.getStatistics()).toEqual(await scanned());
    expect(m.getStatistics()).toEqual(await scanned());
    await m.saveSSOT('loose', { n: 3 });
    expect(m.getStatistics()).toEqual(await scanned());
    await m.shutdown();
  });
});

describe('many packs', () => {
  it('combines the packs it keeps into one once there are more than MAX_PACKS, every version still loading', async () => {
    const { MAX_PACKS } = await import('../../src/manager/retention-packs.js');
    const { m } = await manager();
    for (let n = 0; n <= MAX_PACKS; n++) await commitTransaction(m, `t${n}-`, 2);
    expect((await packNames(m)).length).toBe(2 * (MAX_PACKS + 1));
    await m.runGarbageCollection({ prune: 'now' });
    expect(await packNames(m)).toHaveLength(2);
    for (let n = 0; n <= MAX_PACKS; n++) for (let i = 0; i < 2; i++) expect(await m.loadSSOT(`t${n}-${i}`)).toEqual({ tag: `t${n}-`, i });
    expect((await m.fsck()).ok).toBe(true);
    expect(m.getStatistics().objectCount).toBe(2 * (MAX_PACKS + 1));
    await m.shutdown();
  });
});

describe('the multi-pack index through garbage collection and fsck', () => {
  const multiIndexPath = (m: EnhancedStateManager) => join(m.storeDirectory, 'local', 'multi-pack-index');
  const indexedPacks = async (m: EnhancedStateManager) => (await packNames(m)).filter((name) => name.endsWith('.idx')).map((name) => name.slice(5, 69));
  const namedPacks = async (m: EnhancedStateManager) => {
    const index = decodeMultiPackIndex(await readFile(multiIndexPath(m)));
    if (typeof index === 'string') throw new Error(index);
    return index.packs;
  };

  it('keeps every lookup right when GC removes, repacks and combines packs, in fresh readers and in one that had the old index', async () => {
    const { MAX_PACKS } = await import('../../src/manager/retention-packs.js');
    const { root, m } = await manager({ maxVersions: 1 });
    // All garbage once replaced (removed), mostly garbage (repacked), and more than MAX_PACKS packs kept (combined).
    await commitTransaction(m, 'gone', 4, (i) => `gone${i}`);
    await commitTransaction(m, 'most', 4, (i) => (i === 0 ? 'most-kept' : `most${i}`));
    for (let n = 0; n <= MAX_PACKS; n++) await commitTransaction(m, `t${n}-`, 2);
    const reader = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    for (let i = 0; i < 4; i++) expect(await reader.loadSSOT(`gone${i}`)).toEqual({ tag: 'gone', i });
    for (let i = 1; i < 4; i++) await m.saveSSOT(`gone${i}`, { replaced: i });
    await m.saveSSOT('gone0', { replaced: 0 });
    for (let i = 1; i < 4; i++) await m.saveSSOT(`most${i}`, { replaced: i });
    const before = await indexedPacks(m);
    const gc = await m.runGarbageCollection({ prune: 'now' });
    // The replaced versions' objects went with their packs (7), and the packs left are fewer and new.
    expect(gc.removedObjects).toBeGreaterThanOrEqual(7);
    const after = await indexedPacks(m);
    expect(after.length).toBeLessThan(before.length);
    expect(after.some((hash) => !before.includes(hash))).toBe(true);
    expect(await namedPacks(m)).toEqual(after.sort());
    const expected = new Map<string, unknown>([['most-kept', { tag: 'most', i: 0 }]]);
    for (let i = 0; i < 4; i++) expected.set(`gone${i}`, { replaced: i });
    for (let i = 1; i < 4; i++) expected.set(`most${i}`, { replaced: i });
    for (let n = 0; n <= MAX_PACKS; n++) for (let i = 0; i < 2; i++) expected.set(`t${n}-${i}`, { tag: `t${n}-`, i });
    const fresh = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    for (const [key, value] of expected) {
      expect(await fresh.loadSSOT(key)).toEqual(value);
      expect(await reader.loadSSOT(key)).toEqual(value);
    }
    expect((await m.fsck()).ok).toBe(true);
    await Promise.all([m.shutdown(), reader.shutdown(), fresh.shutdown()]);
  });

  it('fsck verifies the packs themselves: a damaged multi-pack index is no problem of the store, and loads stay right', async () => {
    const { root, m } = await manager();
    for (let n = 0; n < 10; n++) await commitTransaction(m, `t${n}-`, 3);
    const bytes = await readFile(multiIndexPath(m));
    bytes[bytes.length - 40]! ^= 0xff;
    await writeFile(multiIndexPath(m), bytes);
    const report = await m.fsck();
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    const fresh = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    for (let n = 0; n < 10; n++) for (let i = 0; i < 3; i++) expect(await fresh.loadSSOT(`t${n}-${i}`)).toEqual({ tag: `t${n}-`, i });
    await Promise.all([m.shutdown(), fresh.shutdown()]);
  });
});
