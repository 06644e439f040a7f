import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { tempProject } from '../helpers.js';
import { commitAll, git, gitInit } from './git-helpers.js';

describe('git status of the store', () => {
  it('lists new, staged and deleted store files by group, never local/', async () => {
    const root = await tempProject();
    await gitInit(root);
    const manager = new EnhancedStateManager(root);
    await manager.saveSSOT('spec', { a: 1 });

    const fresh = await manager.getGitStatus();
    expect(fresh).toMatchObject({ gitCommit: null, store: '.ae', clean: false });
    expect(fresh.groups).toMatchObject({ versions: { new: 1 }, objects: { new: 1 }, commits: { new: 1 } });
    expect(fresh.files.every((f) => f.state === 'new' && !f.staged && f.path.startsWith('.ae/'))).toBe(true);
    expect(fresh.files.some((f) => f.path.startsWith('.ae/local/'))).toBe(false);

    const head = await commitAll(root, 'state');
    expect(await manager.getGitStatus()).toMatchObject({ gitCommit: head, branch: 'main', clean: true, files: [] });

    await manager.saveSSOT('spec', { a: 2 });
    await git(root, 'add', '.ae/refs');
    const next = await manager.getGitStatus();
    expect(next.groups).toEqual({ versions: { new: 1, modified: 0, deleted: 0 }, objects: { new: 1, modified: 0, deleted: 0 }, commits: { new: 1, modified: 0, deleted: 0 } });
    expect(next.files.find((f) => f.group === 'versions')!.staged).toBe(true);
    expect(next.files.find((f) => f.group === 'objects')!.staged).toBe(false);

    await commitAll(root, 'more state');
    const [, oldest] = await manager.getVersions('spec');
    const refDir = join(root, '.ae', 'refs', 'keys', 'spec');
    const refName = (await readdir(refDir)).find((name) => name.startsWith(oldest!.timestamp.replaceAll(':', '-')))!;
    await rm(join(refDir, refName));
    const afterRemoval = await manager.getGitStatus();
    expect(afterRemoval.files).toEqual([
      { path: `.ae/refs/keys/spec/${refName}`, group: 'versions', state: 'deleted', staged: false },
    ]);
    await manager.shutdown();
  });

  it('is a GitError outside a git repository', async () => {
    const manager = new EnhancedStateManager(await tempProject());
    await expect(manager.getGitStatus()).rejects.toMatchObject({ code: 'GIT' });
    await manager.shutdown();
  });
});
