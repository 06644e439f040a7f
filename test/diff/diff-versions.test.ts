import { describe, expect, it } from 'vitest';
import { EnhancedStateManager, NotFoundError } from '../../src/index.js';
import { applyPatch } from '../../src/diff/json-patch.js';
import { readAeIr, tempProject } from '../helpers.js';

type Spec = Record<string, any>;

async function storeWithThreeVersions() {
  const manager = new EnhancedStateManager(await tempProject(), { compressionThreshold: 200 });
  const v1: Spec = await readAeIr();
  const v2: Spec = structuredClone(v1);
  v2.domain.unshift({ name: 'Order', fields: [{ name: 'id', type: 'uuid', required: true }] });
  const v3: Spec = structuredClone(v2);
  v3.invariants = [];
  v3.metadata.name = 'Renamed';
  const keys: string[] = [];
  for (const data of [v1, v2, v3]) keys.push(await manager.saveSSOT('spec', data));
  return { manager, v1, v2, v3, keys };
}

describe('EnhancedStateManager.diff', () => {
  it('compares the version before the newest with the newest by default', async () => {
    const { manager, v2, v3, keys } = await storeWithThreeVersions();
    const diff = await manager.diff('spec');
    expect(diff).toMatchObject({ key: 'spec', equal: false, from: { version: 2, key: keys[1] }, to: { version: 3, key: keys[2] } });
    expect(diff.summary).toEqual({ added: [], removed: ['/invariants/0'], changed: ['/metadata/name'] });
    expect(applyPatch(v2, diff.patch).result).toEqual(v3);
    await manager.shutdown();
  });

  it('takes version numbers and full keys, and defaults from to the version before to', async () => {
    const { manager, v1, v2, v3, keys } = await storeWithThreeVersions();
    const byNumber = await manager.diff('spec', 1, 3);
    expect(applyPatch(v1, byNumber.patch).result).toEqual(v3);
    const byKey = await manager.diff('spec', keys[0], keys[2]);
    expect(byKey.patch).toEqual(byNumber.patch);
    const beforeTwo = await manager.diff('spec', undefined, 2);
    expect(beforeTwo.from.version).toBe(1);
    expect(beforeTwo.patch).toEqual([{ op: 'add', path: '/domain/0', value: v2.domain[0] }]);
    const backwards = await manager.diff('spec', 3, 1);
    expect(applyPatch(v3, backwards.patch).result).toEqual(v1);
    await manager.shutdown();
  });

  it('reports equal content as equal, even across versions', async () => {
    const { manager, v1 } = await storeWithThreeVersions();
    await manager.saveSSOT('spec', v1);
    const diff = await manager.diff('spec', 1, 4);
    expect(diff).toMatchObject({ equal: true, patch: [], summary: { added: [], removed: [], changed: [] } });
    expect((await manager.diff('spec', 2, 2)).equal).toBe(true);
    await manager.shutdown();
  });

  it('throws NotFoundError for a missing version, key, or predecessor, and rejects foreign full keys', async () => {
    const { manager } = await storeWithThreeVersions();
    await expect(manager.diff('spec', 1, 9)).rejects.toBeInstanceOf(NotFoundError);
    await expect(manager.diff('nothing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(manager.diff('spec', undefined, 1)).rejects.toThrow(/before version 1/);
    await expect(manager.diff('spec', 'other_2025-01-20T10:00:00.000Z')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await manager.shutdown();
  });

  it('compares byte arrays and dates in their stored JSON form', async () => {
    const manager = new EnhancedStateManager(await tempProject());
    await manager.saveSSOT('bin', { blob: Buffer.from('one'), at: new Date('2025-01-20T10:00:00.000Z') });
    await manager.saveSSOT('bin', { blob: Buffer.from('two'), at: new Date('2025-01-20T10:00:00.000Z') });
    const diff = await manager.diff('bin');
    expect(diff.patch).toEqual([{ op: 'replace', path: '/blob/base64', value: Buffer.from('two').toString('base64') }]);
    await manager.shutdown();
  });
});
