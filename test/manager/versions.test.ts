import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { InvalidDataError, InvalidKeyError, InvalidOptionError, StoreClosedError } from '../../src/errors.js';
import { readAeIr, tempProject } from '../helpers.js';

async function manager(options = {}, clock?: () => number) {
  const root = await tempProject();
  return { root, m: new EnhancedStateManager(root, options, clock ? { clock } : {}) };
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

describe('saving and loading versions', () => {
  it('saves under <logicalKey>_<ISO timestamp> and loads the newest or a given version', async () => {
    const { m } = await manager();
    const aeir = await readAeIr();
    const k1 = await m.saveSSOT('user_specification', aeir, { phase: 'phase-5', tags: { environment: 'production' }, ttl: 604800, source: 'domain_modeling' });
    const k2 = await m.saveSSOT('user_specification', { ...aeir, version: '1.0.1' });
    expect(k1).toMatch(/^user_specification_\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(await m.loadSSOT('user_specification')).toEqual({ ...aeir, version: '1.0.1' });
    expect(await m.loadSSOT('user_specification', 1)).toEqual(aeir);
    expect(await m.loadSSOT('user_specification', 3)).toBeNull();
    expect(await m.loadSSOT('never_saved')).toBeNull();
    const versions = await m.getVersions('user_specification');
    expect(versions.map((v) => [v.version, v.key])).toEqual([[2, k2], [1, k1]]);
    const entry = await m.loadEntry('user_specification', 1);
    expect(entry).toMatchObject({ id: k1, version: 1, tags: { environment: 'production' }, ttl: 604800, compressed: true, metadata: { phase: 'phase-5', source: 'domain_modeling' } });
    await m.shutdown();
  });

  it('gives saves of one key in the same millisecond distinct, ordered full keys and gapless versions', async () => {
    const { m } = await manager({ maxVersions: 100 }, () => Date.parse('2025-01-20T10:00:00.000Z'));
    const keys = await Promise.all(Array.from({ length: 20 }, (_, i) => m.saveSSOT('burst', { i })));
    expect(new Set(keys).size).toBe(20);
    const versions = await m.getVersions('burst');
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    expect([...versions].reverse().map((v) => v.key)).toEqual([...versions].reverse().map((v) => v.key).sort());
    await m.shutdown();
  });

  it('compresses data above the threshold and reads it back transparently', async () => {
    const { m } = await manager({ compressionThreshold: 100 });
    await m.saveSSOT('big', { text: 'z'.repeat(1000) });
    await m.saveSSOT('small', { t: 1 });
    expect((await m.loadEntry('big'))?.compressed).toBe(true);
    expect((await m.loadEntry('small'))?.compressed).toBe(false);
    expect(await m.loadSSOT('big')).toEqual({ text: 'z'.repeat(1000) });
    await m.shutdown();
  });

  it('stores identical content once', async () => {
    const { m, root } = await manager();
    const aeir = await readAeIr();
    await m.saveSSOT('a', aeir);
    await m.saveSSOT('b', aeir);
    const objects = (await listTree(join(root, '.ae', 'objects')));
    expect(objects).toHaveLength(1);
    expect(m.getStatistics()).toMatchObject({ totalEntries: 2, objectCount: 1, logicalKeys: 2 });
    await m.shutdown();
  });

  it('keeps the newest maxVersions versions and says which it removed', async () => {
    const { m } = await manager({ maxVersions: 3 });
    const cleaned: unknown[] = [];
    m.on('versionsCleanedUp', (e) => cleaned.push(e));
    const keys: string[] = [];
    for (let i = 1; i <= 5; i++) keys.push(await m.saveSSOT('spec', { i }));
    expect((await m.getVersions('spec')).map((v) => v.version)).toEqual([5, 4, 3]);
    expect(await m.loadSSOT('spec', 1)).toBeNull();
    expect(await m.loadSSOT('spec', 3)).toEqual({ i: 3 });
    expect(cleaned).toEqual([
      { logicalKey: 'spec', deletedCount: 1, deletedKeys: [keys[0]], deletedVersions: [1], maxVersions: 3 },
      { logicalKey: 'spec', deletedCount: 1, deletedKeys: [keys[1]], deletedVersions: [2], maxVersions: 3 },
    ]);
    await m.shutdown();
  });

  it('emits the reference events with their fields', async () => {
    const { m } = await manager();
    const events: Array<[string, unknown]> = [];
    for (const name of ['stateManagerInitialized', 'ssotSaved', 'ssotLoaded', 'stateManagerShutdown']) {
      m.on(name, (e) => events.push([name, e]));
    }
    const key = await m.saveSSOT('evt', { a: 1 }, { phase: 'phase-1' });
    await m.loadSSOT('evt');
    await m.shutdown();
    expect(events.map(([name]) => name)).toEqual(['stateManagerInitialized', 'ssotSaved', 'ssotLoaded', 'stateManagerShutdown']);
    expect(events[1]![1]).toMatchObject({ logicalKey: 'evt', fullKey: key, version: 1, key, phase: 'phase-1', entry: { id: key, data: { a: 1 } } });
    expect(events[2]![1]).toEqual({ logicalKey: 'evt', fullKey: key, version: 1, key });
  });

  it('a new instance on the same root sees everything a closed one saved', async () => {
    const { m, root } = await manager();
    await m.saveSSOT('persisted', { n: 1 });
    await m.saveSSOT('persisted', { n: 2 });
    await m.shutdown();
    const again = new EnhancedStateManager(root);
    expect(await again.loadSSOT('persisted')).toEqual({ n: 2 });
    expect((await again.getVersions('persisted')).length).toBe(2);
    await again.shutdown();
  });

  it('an open instance sees versions another instance saved as soon as the save resolved', async () => {
    const { m, root } = await manager();
    expect(await m.loadSSOT('common')).toBeNull();
    const other = new EnhancedStateManager(root);
    await other.saveSSOT('common', { from: 'other' });
    expect(await m.loadSSOT('common')).toEqual({ from: 'other' });
    await other.saveSSOT('common', { from: 'other', n: 2 });
    expect(await m.loadSSOT('common')).toEqual({ from: 'other', n: 2 });
    await Promise.all([m.shutdown(), other.shutdown()]);
  });

  it('refuses bad keys, data and save options before anything is written', async () => {
    const { m, root } = await manager();
    await m.initialize();
    const before = await listTree(join(root, '.ae'));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(m.saveSSOT('a/b', {})).rejects.toThrow(InvalidKeyError);
    await expect(m.saveSSOT('x'.repeat(300), {})).rejects.toThrow(InvalidKeyError);
    await expect(m.saveSSOT('ok', circular)).rejects.toThrow(InvalidDataError);
    await expect(m.saveSSOT('ok', undefined)).rejects.toThrow(InvalidDataError);
    await expect(m.saveSSOT('ok', { f: () => 1 })).rejects.toThrow(InvalidDataError);
    await expect(m.saveSSOT('ok', {}, { ttl: -1 })).rejects.toThrow(/ttl/);
    await expect(m.saveSSOT('ok', {}, { tags: { n: 1 as unknown as string } })).rejects.toThrow(/tag/);
    expect(await listTree(join(root, '.ae'))).toEqual(before);
    await m.shutdown();
  });

  it('refuses unknown options and values of the wrong type or range', () => {
    expect(() => new EnhancedStateManager('/tmp', { maxVersions: 0 })).toThrow(InvalidOptionError);
    expect(() => new EnhancedStateManager('/tmp', { compressionThreshold: Number.NaN })).toThrow(InvalidOptionError);
    expect(() => new EnhancedStateManager('/tmp', { defaultTTL: -5 })).toThrow(/defaultTTL/);
    expect(() => new EnhancedStateManager('/tmp', { enableCompression: 'yes' as unknown as boolean })).toThrow(InvalidOptionError);
    expect(() => new EnhancedStateManager('/tmp', { nope: 1 } as never)).toThrow(/not a known option/);
  });

  it('has the reference defaults', async () => {
    const { m } = await manager();
    expect(m.options).toMatchObject({
      databasePath: '.ae/enhanced-state.db',
      enableCompression: true,
      compressionThreshold: 1024,
      defaultTTL: 604800,
      gcInterval: 3600,
      maxVersions: 10,
      enableTransactions: true,
    });
  });

  it('cannot be used after shutdown', async () => {
    const { m } = await manager();
    await m.shutdown();
    await expect(m.saveSSOT('x', 1)).rejects.toThrow(StoreClosedError);
  });

  it('writes git settings that keep local files and hooks out of git and bytes unconverted, and a format marker', async () => {
    const { m, root } = await manager();
    await m.initialize();
    const gitignore = await readFile(join(root, '.ae', '.gitignore'), 'utf8');
    expect(gitignore).toContain('/local/');
    expect(gitignore).toContain('/hooks/');
    expect(await readFile(join(root, '.ae', '.gitattributes'), 'utf8')).toContain('* -text');
    expect(await readFile(join(root, '.ae', 'FORMAT'), 'utf8')).toBe('ae-state store format 1\n');
    await m.shutdown();
  });
});
