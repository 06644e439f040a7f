import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/manager/EnhancedStateManager.js';
import { FaultyFs } from '../support/faulty-fs.js';
import { LEGACY_DB, runCli, tempProject } from '../helpers.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function entry(logicalKey: string, timestamp: string, version: number, data: unknown, extra: Record<string, unknown> = {}) {
  return { id: `${logicalKey}-${version}`, logicalKey, timestamp, version, checksum: sha(JSON.stringify(data)), data, compressed: false, tags: {}, metadata: { created: timestamp, source: 'test' }, ...extra };
}

function backup(entries: unknown[]) {
  return { metadata: { version: '1.0.0', timestamp: '2025-01-02T00:00:00.000Z', options: {} }, entries, indices: { keyIndex: {}, versionIndex: {} } };
}

/** Every object file under `.ae/objects`. */
async function objectFiles(root: string): Promise<string[]> {
  const dir = join(root, '.ae', 'objects');
  const fanouts = await readdir(dir).catch(() => [] as string[]);
  return (await Promise.all(fanouts.map(async (f) => (await readdir(join(dir, f))).map((n) => `${f}${n}`)))).flat();
}

const T = '2025-01-01T00:00:00.000Z';

describe('crafted backups are refused whole, leaving nothing behind', () => {
  let deep: unknown = 0;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  const bomb = JSON.parse(JSON.stringify(gzipSync(Buffer.alloc(65 * 1024 * 1024, 0x20))));
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['a timestamp in year 9999', entry('a', '9999-12-31T23:59:59.999Z', 1, { a: 1 }), 'INVALID_BACKUP', /no room for later saves/],
    ['version 2^53 - 1', entry('a', T, 2 ** 53 - 1, { a: 1 }), 'INVALID_BACKUP', /above the limit/],
    ['git provenance that is not a commit id', entry('a', T, 1, { a: 1 }, { metadata: { created: T, source: 's', git: { commit: 'not-a-sha', branch: null } } }), 'INVALID_BACKUP', /git provenance/],
    ['git provenance without a branch', entry('a', T, 1, { a: 1 }, { metadata: { created: T, source: 's', git: { commit: 'a'.repeat(40) } } }), 'INVALID_BACKUP', /git provenance/],
    ['data nested 100,000 levels deep', { ...entry('a', T, 1, 0), data: deep, checksum: undefined }, 'INVALID_DATA', /entries\[1\].*nested more than 1000/],
    ['a gzip bomb', { ...entry('a', T, 1, 0), data: bomb, compressed: true, checksum: undefined }, 'INVALID_BACKUP', /entries\[1\].*decompresses to more than 67108864 bytes/],
  ];
  for (const [what, crafted, code, message] of cases) {
    it(what, async () => {
      const root = await tempProject();
      const m = new EnhancedStateManager(root, { gcInterval: 0 });
      const good = entry('good', T, 1, { fine: true });
      await expect(m.importState(backup([good, crafted]))).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
      expect(await m.getLog()).toEqual([]);
      expect(await objectFiles(root)).toEqual([]);
      await m.saveSSOT('a', { next: 1 });
      expect(await m.loadSSOT('a')).toEqual({ next: 1 });
      await m.shutdown();
    }, 60_000);
  }

  it('removes the objects it wrote when publishing fails', async () => {
    const root = await tempProject();
    const faulty = new FaultyFs();
    const m = new EnhancedStateManager(root, { gcInterval: 0 }, { fs: faulty.fs });
    await m.initialize();
    const entries = Array.from({ length: 50 }, (_, i) => entry(`k${i}`, T, 1, { i }));
    faulty.reset({ kind: 'rename', at: 60, code: 'EIO' });
    await expect(m.importState(backup(entries))).rejects.toMatchObject({ code: 'EIO' });
    faulty.reset(null);
    expect(await m.getLog()).toEqual([]);
    expect(await objectFiles(root)).toEqual([]);
    await m.shutdown();
  });

  it('after an accepted import the next saves of the key work in a fresh process and fsck is clean', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0 });
    await m.importState(backup([entry('a', '8999-12-31T23:59:59.999Z', 2 ** 48, { a: 1 })]));
    await m.shutdown();
    const fresh = new EnhancedStateManager(root, { gcInterval: 0 });
    await fresh.saveSSOT('a', { a: 2 });
    await fresh.saveSSOT('a', { a: 3 });
    expect((await fresh.getVersions('a')).map((v) => [v.version, v.timestamp])).toEqual([
      [2 ** 48 + 2, '9000-01-01T00:00:00.001Z'],
      [2 ** 48 + 1, '9000-01-01T00:00:00.000Z'],
      [2 ** 48, '8999-12-31T23:59:59.999Z'],
    ]);
    expect(await fresh.loadSSOT('a')).toEqual({ a: 3 });
    expect(await fresh.fsck()).toMatchObject({ ok: true });
    await fresh.shutdown();
  });
});

describe('idempotent restores', () => {
  it('imports a backup three times into a store whose key has a newer version: 0 new the second and third time, never older data as latest', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0 });
    const old = backup([entry('spec', T, 1, { old: 1 }), entry('spec', '2025-01-01T00:00:01.000Z', 2, { old: 2 }), entry('other', T, 1, { o: 1 })]);
    await m.importState(JSON.parse(JSON.stringify(old)));
    await m.saveSSOT('spec', { newest: true });
    const before = await m.getVersions('spec');
    const newer = backup([entry('spec', '2025-01-01T00:00:02.000Z', 3, { between: true }), ...old.entries]);
    for (let round = 0; round < 3; round++) {
      const result = await m.importState(JSON.parse(JSON.stringify(newer)));
      expect(result).toMatchObject({ published: 0, present: 3, older: 1, skipped: 4 });
      expect(await m.loadSSOT('spec')).toEqual({ newest: true });
      expect(await m.getVersions('spec')).toEqual(before);
    }
    expect(await m.getLog()).toHaveLength(2);
    await m.shutdown();
  });

  it('migrating the same legacy database twice reports 0 new, N already present the second time', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0 });
    await m.saveSSOT('mine', { a: 1 });
    await copyFile(LEGACY_DB, join(root, '.ae', 'enhanced-state.db'));
    expect(await m.migrate()).toMatchObject({ published: 1, present: 0 });
    await copyFile(LEGACY_DB, join(root, '.ae', 'enhanced-state.db'));
    expect(await m.migrate()).toMatchObject({ published: 0, present: 1 });
    expect(await m.getLog()).toHaveLength(2);
    await m.shutdown();
  });

  it('the CLI reports "0 new, N already present" for a repeated import and migrate', async () => {
    const root = await tempProject();
    const file = join(root, 'backup.json');
    await copyFile(LEGACY_DB, file);
    const first = await runCli(['import', '-i', file], { cwd: root });
    expect(first.stdout).toContain('1 new, 0 already present');
    const second = await runCli(['import', '-i', file], { cwd: root });
    expect(second.stdout).toContain('0 new, 1 already present');
    await copyFile(LEGACY_DB, join(root, '.ae', 'enhanced-state.db'));
    const migrated = await runCli(['migrate'], { cwd: root });
    expect(migrated.stdout).toContain('0 new, 1 already present');
    expect(JSON.parse(await readFile(file, 'utf8')).entries).toHaveLength(1);
  });
});
