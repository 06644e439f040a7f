import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { tempProject } from '../helpers.js';

describe('listKeys', () => {
  it('lists every key with a visible version, in name order, with its newest version and count', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    expect(await m.listKeys()).toEqual([]);
    await m.saveSSOT('b.spec', { n: 1 }, { phase: 'phase-1' });
    await m.saveSSOT('b.spec', { n: 2 }, { phase: 'phase-2', source: 'refiner' });
    const last = await m.saveSSOT('a.spec', { n: 3 });
    const tx = await m.beginTransaction();
    await m.saveSSOT('c.staged', { n: 4 }, { transactionId: tx });
    const keys = await m.listKeys();
    // The staged key is not committed, so not listed.
    expect(keys.map((k) => [k.logicalKey, k.versionCount, k.latest.version])).toEqual([['a.spec', 1, 1], ['b.spec', 2, 2]]);
    expect(keys[0]!.latest.key).toBe(last);
    expect(keys[1]!.latest).toMatchObject({ phase: 'phase-2', source: 'refiner' });
    await m.rollbackTransaction(tx);
    await m.shutdown();
  });
});
