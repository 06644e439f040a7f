import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { tempProject } from '../helpers.js';

const opened: EnhancedStateManager[] = [];

async function cachingManager(): Promise<EnhancedStateManager> {
  const m = new EnhancedStateManager(await tempProject(), {
    recordGitProvenance: false,
    gcInterval: 0,
    enablePerformanceMetrics: true,
    enableSerializationCache: true,
  });
  opened.push(m);
  return m;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.shutdown()));
});

describe('serialisation cache', () => {
  it('reuses the bytes of a deeply frozen plain document saved again', async () => {
    const m = await cachingManager();
    const doc = Object.freeze({ id: 'spec', items: Object.freeze([1, 2]) });
    await m.saveSSOT('spec', doc);
    await m.saveSSOT('spec', doc);
    expect(m.getPerformanceMetrics()).toMatchObject({ stringifyCacheHits: 1, stringifyCacheMisses: 1 });
    expect(await m.loadSSOT('spec', 2)).toEqual({ id: 'spec', items: [1, 2] });
  });

  it('never reuses a frozen document holding a Date, whose time setTime still changes', async () => {
    const m = await cachingManager();
    const when = Object.freeze(new Date('2025-01-01T00:00:00.000Z'));
    const doc = Object.freeze({ when });
    await m.saveSSOT('release', doc);
    when.setTime(Date.parse('2030-06-01T00:00:00.000Z'));
    await m.saveSSOT('release', doc);
    expect(((await m.loadSSOT('release', 2)) as { when: Date }).when.toISOString()).toBe('2030-06-01T00:00:00.000Z');
    expect(m.getPerformanceMetrics().stringifyCacheHits).toBe(0);
  });

  it('never reuses a frozen document with a getter, which can return something new each time', async () => {
    const m = await cachingManager();
    let revision = 0;
    const doc = Object.freeze({
      get revision() {
        return revision;
      },
    });
    await m.saveSSOT('counter', doc);
    revision = 7;
    await m.saveSSOT('counter', doc);
    expect(await m.loadSSOT('counter', 2)).toEqual({ revision: 7 });
    expect(m.getPerformanceMetrics().stringifyCacheHits).toBe(0);
  });

  it('never reuses a frozen document holding binary data, whose bytes stay writable', async () => {
    const m = await cachingManager();
    const bytes = new Uint8Array([1, 2, 3]);
    const doc = Object.freeze({ bytes });
    await m.saveSSOT('blob', doc);
    bytes[0] = 9;
    await m.saveSSOT('blob', doc);
    expect(await m.loadSSOT('blob', 2)).toEqual({ bytes: new Uint8Array([9, 2, 3]) });
  });
});
