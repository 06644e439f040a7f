import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { tempProject } from '../helpers.js';
import { listFiles } from '../support/store-checks.js';

async function storeWithVersions() {
  const root = await tempProject();
  const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
  await m.saveSSOT('spec', { a: 1 });
  await m.saveSSOT('spec', { a: 2 });
  // A burst of saves keeps the lock file a moment after the last one: let it go, so listings see the store at rest.
  await (m as unknown as { ctx: { releaseWriteLock(): Promise<void> } }).ctx.releaseWriteLock();
  return { root, m, local: join(m.storeDirectory, 'local') };
}

describe('maintenance records', () => {
  it('records the last gc and fsck, and another manager reads them after a reopen', async () => {
    const { root, m } = await storeWithVersions();
    expect(await m.getMaintenanceRecords()).toEqual({ lastGc: null, lastFsck: null });
    const gc = await m.runGarbageCollection({ prune: 'now' });
    const fsck = await m.fsck();
    await m.shutdown();

    const reopened = new EnhancedStateManager(root, { gcInterval: 0 });
    const { lastGc, lastFsck } = await reopened.getMaintenanceRecords();
    expect(lastGc).toMatchObject({ expiredCount: gc.expiredCount, removedObjects: gc.removedObjects, freedBytes: gc.freedBytes, graceSeconds: 0, durationMs: gc.durationMs });
    expect(Date.parse(lastGc!.finishedAt)).not.toBeNaN();
    expect(lastFsck).toMatchObject({ ok: true, repair: false, errors: 0, warnings: 0, checked: fsck.checked, problems: [], problemCount: 0 });
    await reopened.shutdown();
  });

  it('keeps the first problems of a failed fsck, with paths inside the store', async () => {
    const { m } = await storeWithVersions();
    const store = m.storeDirectory;
    for (let i = 0; i < 8; i++) await writeFile(join(store, 'commits', `stray-${i}`), 'x');
    const result = await m.fsck();
    const { lastFsck } = await m.getMaintenanceRecords();
    expect(lastFsck!.problemCount).toBe(result.problems.length);
    expect(lastFsck!.problems).toHaveLength(5);
    expect(lastFsck!.problems[0]).toEqual({ code: 'stray-file', severity: 'warning', path: join('commits', 'stray-0'), message: result.problems[0]!.message });
    await m.shutdown();
  });

  it('records a repair as one, with what it repaired', async () => {
    const { m } = await storeWithVersions();
    const dir = join(m.storeDirectory, 'refs', 'keys', 'spec');
    await writeFile(join(dir, (await readdir(dir)).sort()[0]!), '{"format":1,');
    const result = await m.fsck({ repair: true });
    expect(result.repaired).toBe(1);
    expect((await m.getMaintenanceRecords()).lastFsck).toMatchObject({ repair: true, ok: true, repaired: 1, problemCount: 1, problems: [{ code: 'invalid-ref' }] });
    await m.shutdown();
  });

  it('a read-only fsck writes nothing but its record', async () => {
    const { m } = await storeWithVersions();
    const store = m.storeDirectory;
    const before = await listFiles(store);
    const contents = await Promise.all(before.map((path) => readFile(join(store, path), 'utf8')));
    await m.fsck();
    expect(await listFiles(store)).toEqual([...before, join('local', 'last-fsck.json')].sort());
    for (const [i, path] of before.entries()) expect(await readFile(join(store, path), 'utf8'), path).toBe(contents[i]);
    await m.shutdown();
  });

  it('reads a damaged or foreign record as none, and the other record still', async () => {
    const { m, local } = await storeWithVersions();
    await m.runGarbageCollection();
    await m.fsck();
    const valid = JSON.parse(await readFile(join(local, 'last-fsck.json'), 'utf8'));
    const damaged = [
      '{"format":1,',
      '"not an object"',
      JSON.stringify({ ...valid, format: 2 }),
      JSON.stringify({ ...valid, errors: -1 }),
      JSON.stringify({ ...valid, finishedAt: '<script>' }),
      JSON.stringify({ ...valid, checked: { objects: 1 } }),
      JSON.stringify({ ...valid, problems: Array.from({ length: 6 }, () => ({ code: 'x', severity: 'error', path: 'p', message: 'm' })) }),
      JSON.stringify({ ...valid, problems: [{ code: 'x', severity: 'fatal', path: 'p', message: 'm' }] }),
    ];
    for (const text of damaged) {
      await writeFile(join(local, 'last-fsck.json'), text);
      const records = await m.getMaintenanceRecords();
      expect(records.lastFsck, text).toBeNull();
      expect(records.lastGc).not.toBeNull();
    }
    await m.shutdown();
  });

  it('a record that cannot be written leaves the gc standing and no record', async () => {
    const { m, local } = await storeWithVersions();
    await mkdir(join(local, 'last-gc.json', 'blocked'), { recursive: true });
    await expect(m.runGarbageCollection({ prune: 'now' })).resolves.toMatchObject({ graceSeconds: 0 });
    expect((await m.getMaintenanceRecords()).lastGc).toBeNull();
    expect(await readdir(join(local, 'tmp'))).toEqual([]);
    await m.shutdown();
  });

  it('answers nulls where there is no store and creates nothing', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0 });
    expect(await m.getMaintenanceRecords()).toEqual({ lastGc: null, lastFsck: null });
    expect(await readdir(root)).toEqual([]);
    await m.shutdown();
  });
});
