import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { tempProject } from '../helpers.js';

describe('EnhancedStateManager: reads before any write', () => {
  it('answers null and empty lists without creating .ae/, and creates it on the first save', async () => {
    const root = await tempProject();
    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    expect(await manager.loadSSOT('spec')).toBeNull();
    expect(await manager.getVersions('spec')).toEqual([]);
    expect(await manager.getLog()).toEqual([]);
    expect(await manager.listSnapshots()).toEqual([]);
    expect(await manager.listFailures()).toEqual([]);
    expect((await manager.exportState()).entries).toEqual([]);
    expect(existsSync(join(root, '.ae'))).toBe(false);
    await manager.saveSSOT('spec', { v: 1 });
    expect(existsSync(join(root, '.ae', 'FORMAT'))).toBe(true);
    expect(await manager.loadSSOT('spec')).toEqual({ v: 1 });
    await manager.shutdown();
  });

  it('refuses a phase that could not name a snapshot before writing anything', async () => {
    const root = await tempProject();
    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    await expect(manager.saveSSOT('spec', {}, { phase: 'a/b' })).rejects.toMatchObject({ code: 'INVALID_KEY' });
    await expect(manager.saveSSOT('spec', {}, { phase: 'a:b' })).rejects.toMatchObject({ code: 'INVALID_KEY' });
    expect(await manager.getVersions('spec')).toEqual([]);
    await manager.shutdown();
  });
});
