import { describe, expect, it } from 'vitest';
import { EnhancedStateManager, NotFoundError } from '../../src/index.js';
import { readAeIr, tempProject } from '../helpers.js';

describe('EnhancedStateManager.diffSnapshots', () => {
  it('lists logical keys added, removed and changed, with each changed key diffed', async () => {
    const manager = new EnhancedStateManager(await tempProject());
    const spec: Record<string, any> = await readAeIr();
    await manager.saveSSOT('domain.user', spec, { phase: 'phase-5' });
    await manager.saveSSOT('domain.order', { name: 'Order' }, { phase: 'phase-5' });
    await manager.saveSSOT('domain.stable', { same: true }, { phase: 'phase-5' });
    const before = await manager.createSnapshot('phase-5');

    const edited = structuredClone(spec);
    edited.glossary.unshift({ term: 'Order', definition: 'A purchase' });
    await manager.saveSSOT('domain.user', edited, { phase: 'phase-5' });
    await manager.saveSSOT('domain.order', { name: 'Order' }, { phase: 'phase-4' });
    await manager.saveSSOT('domain.payment', { name: 'Payment' }, { phase: 'phase-5' });
    const after = await manager.createSnapshot('phase-5');

    const diff = await manager.diffSnapshots(before, after);
    expect(diff).toMatchObject({ from: before, to: after, equal: false, added: ['domain.payment'], removed: ['domain.order'], unchanged: 1 });
    expect(diff.changed.map((c) => c.key)).toEqual(['domain.user']);
    expect(diff.changed[0]!.patch).toEqual([{ op: 'add', path: '/glossary/0', value: edited.glossary[0] }]);
    expect((await manager.diffSnapshots(after, after)).equal).toBe(true);
    await expect(manager.diffSnapshots(before, 'snapshot_phase-5_2020-01-01T00:00:00.000Z')).rejects.toBeInstanceOf(NotFoundError);
    await manager.shutdown();
  });
});
