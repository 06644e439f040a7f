import { lstat, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/manager/EnhancedStateManager.js';
import { runCli, tempProject } from '../helpers.js';
import { writeHook } from './support.js';

async function open() {
  const root = await tempProject();
  const manager = new EnhancedStateManager(root, { gcInterval: 0, awaitHooks: true });
  const skipped: Array<{ hook: string; reason: string }> = [];
  const ran: string[] = [];
  manager.on('hookSkipped', (e: { hook: string; reason: string }) => skipped.push(e));
  manager.on('hookCompleted', (run: { hook: string }) => ran.push(run.hook));
  return { root, manager, skipped, ran };
}

const cli = (root: string, args: string[]) => runCli(['--root', root, ...args]);

describe('hook trust', () => {
  it('never runs a hook this machine has not trusted, and runs it once trusted', async () => {
    const { root, manager, skipped, ran } = await open();
    await writeHook(root, 'post-commit', '#!/bin/sh\ntouch "$AE_ROOT/ran"\n', true, false);
    await manager.saveSSOT('k', { a: 1 });
    expect(await readdir(root)).not.toContain('ran');
    expect(skipped).toMatchObject([{ hook: 'post-commit', reason: 'untrusted' }]);
    expect((await manager.listHooks())[0]).toMatchObject({ name: 'post-commit', active: true, trusted: false });

    const trusted = await manager.trustHook('post-commit');
    expect(trusted.sha256).toMatch(/^[0-9a-f]{64}$/);
    await manager.saveSSOT('k', { a: 2 });
    expect(ran).toEqual(['post-commit']);
    expect(await readdir(root)).toContain('ran');
    await manager.shutdown();
  });

  it('skips a trusted hook whose content changed until it is trusted again', async () => {
    const { root, manager, skipped, ran } = await open();
    const path = await writeHook(root, 'post-commit', '#!/bin/sh\nexit 0\n');
    await manager.saveSSOT('k', { a: 1 });
    expect(ran).toEqual(['post-commit']);
    await writeFile(path, '#!/bin/sh\ntouch "$AE_ROOT/changed"\n');
    await manager.saveSSOT('k', { a: 2 });
    expect(ran).toEqual(['post-commit']);
    expect(skipped.map((e) => e.reason)).toEqual(['untrusted']);
    expect(await readdir(root)).not.toContain('changed');
    await expect(manager.runHook('post-commit')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await manager.shutdown();
  });

  it('keeps approvals inside .git/ when the project is a git repository, never in the store', async () => {
    const root = await tempProject();
    await mkdir(join(root, '.git'));
    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    await writeHook(root, 'post-commit', '#!/bin/sh\nexit 0\n', true, false);
    const { trustFile } = await manager.trustHook('post-commit');
    expect(trustFile).toBe(join(root, '.git', 'ae-state', 'trusted-hooks.json'));
    await manager.shutdown();
  });

  it('refuses to trust or run a hook that is a symbolic link', async () => {
    const { root, manager, ran } = await open();
    await manager.initialize();
    await mkdir(join(root, '.ae', 'hooks'));
    await writeFile(join(root, 'target.sh'), '#!/bin/sh\ntouch "$AE_ROOT/ran"\n', { mode: 0o755 });
    await symlink(join(root, 'target.sh'), join(root, '.ae', 'hooks', 'post-commit'));
    await expect(manager.trustHook('post-commit')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await manager.saveSSOT('k', { a: 1 });
    expect(ran).toEqual([]);
    expect((await lstat(join(root, '.ae', 'hooks', 'post-commit'))).isSymbolicLink()).toBe(true);
    expect(await readdir(root)).not.toContain('ran');
    await manager.shutdown();
  });

  it('the CLI warns once, naming the command that trusts the hook', async () => {
    const root = await tempProject();
    await writeHook(root, 'post-commit', '#!/bin/sh\ntouch "$AE_ROOT/ran"\n', true, false);
    await writeFile(join(root, 'in.json'), '{"a":1}');
    const saved = await cli(root, ['save', '-k', 'k', '-i', join(root, 'in.json')]);
    expect(saved.code).toBe(0);
    expect(saved.stderr).toContain('ae-state hooks trust post-commit');
    expect(await readdir(root)).not.toContain('ran');
    expect((await cli(root, ['hooks', 'trust', 'post-commit'])).code).toBe(0);
    expect((await cli(root, ['save', '-k', 'k', '-i', join(root, 'in.json')])).stderr).not.toContain('warning');
    expect(await readdir(root)).toContain('ran');
  });
});
