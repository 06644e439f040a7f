import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { tempProject } from '../helpers.js';

const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (name.startsWith('AE_STATE_') && !(name in saved)) delete process.env[name];
});

async function projectWithConfig(config: unknown): Promise<string> {
  const root = await tempProject();
  await mkdir(join(root, '.ae'), { recursive: true });
  await writeFile(join(root, '.ae', 'config.json'), JSON.stringify(config));
  return root;
}

describe('the store config file', () => {
  it('applies with precedence constructor options > AE_STATE_<OPTION> > config file > defaults', async () => {
    const root = await projectWithConfig({ maxVersions: 3, hookTimeout: 9, lockTimeout: 7 });
    process.env.AE_STATE_HOOK_TIMEOUT = '5';
    process.env.AE_STATE_LOCK_TIMEOUT = '6';
    const manager = new EnhancedStateManager(root, { lockTimeout: 1, gcInterval: 0 });
    expect(manager.options.maxVersions).toBe(3);
    expect(manager.options.hookTimeout).toBe(5);
    expect(manager.options.lockTimeout).toBe(1);
    expect(manager.options.defaultTTL).toBe(604800);
    await manager.shutdown();
  });

  it('refuses a config file or store directory that is a link, and never reads what it points to', async () => {
    const outside = await tempProject();
    await writeFile(join(outside, 'config.json'), JSON.stringify({ maxVersions: 1 }));
    const linkedFile = await tempProject();
    await mkdir(join(linkedFile, '.ae'));
    await symlink(join(outside, 'config.json'), join(linkedFile, '.ae', 'config.json'));
    const manager = new EnhancedStateManager(linkedFile, { gcInterval: 0 });
    expect(manager.options.maxVersions).toBe(10);
    await expect(manager.saveSSOT('spec', { a: 1 })).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringMatching(/symbolic link/) });
    // fsck still runs, to report the link and, with repair, remove it.
    expect((await manager.fsck()).problems).toContainEqual(expect.objectContaining({ code: 'unsafe-entry' }));
    await manager.shutdown();
    const linkedStore = await tempProject();
    await symlink(outside, join(linkedStore, '.ae'));
    const other = new EnhancedStateManager(linkedStore, { gcInterval: 0 });
    await expect(other.loadSSOT('spec')).rejects.toMatchObject({ code: 'INTEGRITY' });
    await other.shutdown();
  });

  it('keeps the number of versions the file asks for', async () => {
    const root = await projectWithConfig({ maxVersions: 2 });
    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    for (let i = 1; i <= 4; i++) await manager.saveSSOT('spec', { i });
    expect((await manager.getVersions('spec')).map((v) => v.version)).toEqual([4, 3]);
    await manager.shutdown();
  });

  it('refuses a file with an unknown key, naming the key', async () => {
    const root = await projectWithConfig({ maxVersion: 2 });
    expect(() => new EnhancedStateManager(root)).toThrow(/config\.json has no setting "maxVersion"/);
  });

  it('writes a setting atomically and keeps the others', async () => {
    const root = await projectWithConfig({ hookTimeout: 9 });
    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    expect(await manager.writeConfig('maxVersions', 20)).toEqual({ maxVersions: 20, hookTimeout: 9 });
    expect(JSON.parse(await readFile(join(root, '.ae', 'config.json'), 'utf8'))).toEqual({ maxVersions: 20, hookTimeout: 9 });
    await expect(manager.writeConfig('maxVersions', -1)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(manager.writeConfig('nope' as 'maxVersions', 1)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(await manager.readConfig()).toEqual({ maxVersions: 20, hookTimeout: 9 });
    await manager.shutdown();
  });
});
