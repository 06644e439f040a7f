import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/manager/EnhancedStateManager.js';
import { keyNamesEntity } from '../../src/model/snapshot-selection.js';
import { TagStore } from '../../src/store/tags.js';
import { ObjectStore } from '../../src/store/objects.js';
import { nodeFs } from '../../src/store/fs.js';
import { storeLayout } from '../../src/store/layout.js';
import { readAeIr, tempProject } from '../helpers.js';

async function managerIn(root?: string, clock?: () => number) {
  const dir = root ?? (await tempProject());
  return new EnhancedStateManager(dir, { gcInterval: 0 }, clock ? { clock } : {});
}

describe('snapshot selection rule', () => {
  it('matches entities against whole key segments, case-insensitively', () => {
    expect(keyNamesEntity('domain.user.specification', 'User')).toBe(true);
    expect(keyNamesEntity('user_spec', 'USER')).toBe(true);
    expect(keyNamesEntity('phase5.domain_model.final', 'domain_model')).toBe(true);
    expect(keyNamesEntity('product-catalog', 'Product')).toBe(true);
    expect(keyNamesEntity('username_rules', 'User')).toBe(false);
    expect(keyNamesEntity('superuser', 'user')).toBe(false);
    expect(keyNamesEntity('domain.model', 'model.domain')).toBe(false);
  });

  it('takes the latest version of keys whose latest version has the phase, or that name an entity', async () => {
    const m = await managerIn();
    await m.saveSSOT('a', { v: 1 }, { phase: 'phase-5' });
    await m.saveSSOT('a', { v: 2 }, { phase: 'phase-5' });
    await m.saveSSOT('moved', { v: 1 }, { phase: 'phase-5' });
    await m.saveSSOT('moved', { v: 2 }, { phase: 'phase-6' }); // latest is in another phase
    await m.saveSSOT('domain.user.spec', { u: 1 }, { phase: 'phase-1' });
    await m.saveSSOT('product_model', { p: 1 });
    await m.saveSSOT('other', { o: 1 }, { phase: 'phase-1' });

    const byPhase = await m.loadSnapshot(await m.createSnapshot('phase-5'));
    expect(Object.values(byPhase!).map((e) => [e.logicalKey, e.data])).toEqual([['a', { v: 2 }]]);

    const withEntities = await m.loadSnapshot(await m.createSnapshot('phase-5', ['User', 'Product']));
    expect(Object.values(withEntities!).map((e) => e.logicalKey)).toEqual(['a', 'domain.user.spec', 'product_model']);
    await m.shutdown();
  });
});

describe('snapshots', () => {
  it('creates an id like the reference, loads decoded entries and emits events', async () => {
    const m = await managerIn();
    const aeir = await readAeIr();
    await m.saveSSOT('user_specification', aeir, { phase: 'phase-5', tags: { env: 'prod' }, ttl: 3600, source: 'modeling' });
    await m.saveSSOT('bytes', Buffer.from([1, 2, 3]), { phase: 'phase-5' });
    const events: Array<[string, unknown]> = [];
    m.on('snapshotCreated', (e) => events.push(['created', e]));
    m.on('snapshotLoaded', (e) => events.push(['loaded', e]));

    const id = await m.createSnapshot('phase-5');
    expect(id).toMatch(/^snapshot_phase-5_\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const snapshot = await m.loadSnapshot(id);
    const spec = Object.values(snapshot!).find((e) => e.logicalKey === 'user_specification')!;
    expect(spec.data).toEqual(aeir);
    expect(spec.compressed).toBe(true); // stored gzipped, returned decoded
    expect(spec.tags).toEqual({ env: 'prod' });
    expect(spec.ttl).toBe(3600);
    expect(spec.metadata).toMatchObject({ source: 'modeling', phase: 'phase-5' });
    expect(Buffer.isBuffer(Object.values(snapshot!).find((e) => e.logicalKey === 'bytes')!.data)).toBe(true);
    expect(Object.keys(snapshot!)).toEqual(Object.values(snapshot!).map((e) => e.id));

    expect(events[0]![0]).toBe('created');
    expect(events[0]![1]).toMatchObject({ snapshotId: id, metadata: { snapshotId: id, phase: 'phase-5', entryCount: 2 } });
    expect(events[1]).toEqual(['loaded', { snapshotId: id }]);
    await m.shutdown();
  });

  it('writes the tag and tree in the documented format', async () => {
    const root = await tempProject();
    const m = await managerIn(root);
    const key = await m.saveSSOT('k', { x: 1 }, { phase: 'p' });
    const id = await m.createSnapshot('p');
    const names = await readdir(join(root, '.ae', 'refs', 'tags'));
    expect(names).toEqual([`${id.replaceAll(':', '-')}.json`]);
    const tag = JSON.parse(await readFile(join(root, '.ae', 'refs', 'tags', names[0]!), 'utf8'));
    expect(tag).toMatchObject({ format: 1, snapshotId: id });
    const layout = storeLayout(root, '.ae');
    const tags = new TagStore(nodeFs, layout, new ObjectStore(nodeFs, layout));
    const tree = await tags.readTree((await tags.read(id))!);
    expect(tree).toMatchObject({ format: 1, type: 'tree', snapshotId: id, phase: 'p', entities: null });
    expect(tree.entries).toEqual([expect.objectContaining({ fullKey: key, logicalKey: 'k', version: 1, tags: {}, source: 'unknown', phase: 'p' })]);
    const { digest, ...record } = tag;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(await tags.list()).toEqual([record]);
    await m.shutdown();
  });

  it('keeps snapshot data loadable after retention dropped the versions', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 1 });
    await m.saveSSOT('k', { v: 1 }, { phase: 'p' });
    const id = await m.createSnapshot('p');
    await m.saveSSOT('k', { v: 2 }, { phase: 'p' });
    expect(await m.getVersions('k')).toHaveLength(1);
    expect(Object.values((await m.loadSnapshot(id))!)[0]!.data).toEqual({ v: 1 });
    await m.shutdown();
  });

  it('lists newest first, deletes, and answers null for unknown or malformed ids', async () => {
    let now = Date.parse('2025-01-20T10:00:00.000Z');
    const m = await managerIn(undefined, () => now);
    await m.saveSSOT('k', { v: 1 }, { phase: 'p' });
    const first = await m.createSnapshot('p');
    const second = await m.createSnapshot('p'); // same millisecond: still a new id
    now += 1000;
    const third = await m.createSnapshot('q');
    expect(new Set([first, second, third]).size).toBe(3);
    expect((await m.listSnapshots()).map((s) => s.snapshotId)).toEqual([third, second, first]);
    expect((await m.listSnapshots())[0]).toMatchObject({ entryCount: 0, entries: [], phase: 'q' });

    expect(await m.deleteSnapshot(second)).toBe(true);
    expect(await m.deleteSnapshot(second)).toBe(false);
    expect(await m.loadSnapshot(second)).toBeNull();
    expect(await m.loadSnapshot('snapshot_none_2025-01-20T10:00:00.000Z')).toBeNull();
    expect(await m.loadSnapshot('../../etc/passwd')).toBeNull();
    expect((await m.listSnapshots()).map((s) => s.snapshotId)).toEqual([third, first]);
    await m.shutdown();
  });

  it('snapshots versions that never expire (ttl 0), and lists, loads, checks and exports them', async () => {
    const root = await tempProject();
    const m = await managerIn(root);
    await m.saveSSOT('forever', { v: 1 }, { ttl: 0, phase: 'phase-1' });
    const id = await m.createSnapshot('phase-1');
    expect((await m.loadSnapshot(id))!).toMatchObject({ [(await m.getVersions('forever'))[0]!.key]: { ttl: 0, data: { v: 1 } } });
    expect((await m.listSnapshots()).map((s) => s.snapshotId)).toEqual([id]);
    expect((await m.fsck()).ok).toBe(true);
    const tar = join(root, 'forever.tar');
    await m.exportSnapshot(id, tar);
    const target = await managerIn();
    await target.importSnapshot(tar);
    expect((await target.loadEntry('forever'))!.ttl).toBe(0);
    await target.shutdown();
    await m.shutdown();
  });

  it('refuses phases that cannot name a tag file', async () => {
    const m = await managerIn();
    await expect(m.createSnapshot('a/b')).rejects.toMatchObject({ code: 'INVALID_KEY' });
    await expect(m.createSnapshot('a?b')).rejects.toMatchObject({ code: 'INVALID_KEY' });
    await expect(m.createSnapshot('p', 'User' as unknown as string[])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await m.shutdown();
  });
});
