import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { readGitProvenance } from '../../src/git/provenance.js';
import { readAeIr, tempProject } from '../helpers.js';
import { commitAll, git, gitInit } from './git-helpers.js';

describe('git provenance of saved versions', () => {
  it('records the HEAD commit and branch with each version and commit', async () => {
    const root = await tempProject();
    await gitInit(root);
    const head = await commitAll(root, 'initial');
    const manager = new EnhancedStateManager(root);
    await manager.saveSSOT('spec', await readAeIr());
    const [version] = await manager.getVersions('spec');
    expect(version!.git).toEqual({ commit: head, branch: 'main' });
    expect((await manager.loadEntry('spec'))!.metadata.git).toEqual({ commit: head, branch: 'main' });
    expect((await manager.getLog(1))[0]!.git).toEqual({ commit: head, branch: 'main' });
    await manager.shutdown();
  });

  it('sees a new HEAD in a long-running manager after the user commits', async () => {
    const root = await tempProject();
    await gitInit(root);
    const first = await commitAll(root, 'one');
    const manager = new EnhancedStateManager(root);
    await manager.saveSSOT('spec', { n: 1 });
    const second = await commitAll(root, 'two');
    await manager.saveSSOT('spec', { n: 2 });
    const versions = await manager.getVersions('spec');
    expect(versions.map((v) => v.git?.commit)).toEqual([second, first]);
    await manager.shutdown();
  });

  it('records a detached HEAD with a null branch, and reads packed refs', async () => {
    const root = await tempProject();
    await gitInit(root);
    const head = await commitAll(root, 'one');
    await git(root, 'pack-refs', '--all');
    expect(await readGitProvenance(root)).toEqual({ commit: head, branch: 'main' });
    await git(root, 'checkout', '-q', '--detach');
    expect(await readGitProvenance(root)).toEqual({ commit: head, branch: null });
  });

  it('finds the repository from a project root in a subdirectory and in a linked worktree', async () => {
    const root = await tempProject();
    await gitInit(root);
    const head = await commitAll(root, 'one');
    const sub = join(root, 'packages', 'app');
    await mkdir(sub, { recursive: true });
    expect(await readGitProvenance(sub)).toEqual({ commit: head, branch: 'main' });
    const worktree = join(await tempProject(), 'wt');
    await git(root, 'worktree', 'add', '-q', '-b', 'feature', worktree);
    expect(await readGitProvenance(worktree)).toEqual({ commit: head, branch: 'feature' });
  });

  it('records nothing outside git, before the first commit, or with recordGitProvenance off', async () => {
    const outside = await tempProject();
    const unborn = await tempProject();
    await gitInit(unborn);
    const inGit = await tempProject();
    await gitInit(inGit);
    await commitAll(inGit, 'one');
    const cases: Array<[string, object]> = [
      [outside, {}],
      [unborn, {}],
      [inGit, { recordGitProvenance: false }],
    ];
    for (const [root, options] of cases) {
      const manager = new EnhancedStateManager(root, options);
      await manager.saveSSOT('spec', { a: 1 });
      const [version] = await manager.getVersions('spec');
      expect(version!.git).toBeUndefined();
      expect((await manager.getLog(1))[0]!.git).toBeUndefined();
      await manager.shutdown();
    }
  });

  it('records no branch for a ref that is a named pipe, and the save does not wait on it', async () => {
    const root = await tempProject();
    await gitInit(root);
    await commitAll(root, 'one');
    const branch = join(root, '.git', 'refs', 'heads', 'main');
    await rm(branch);
    execFileSync('mkfifo', [branch]);
    const manager = new EnhancedStateManager(root);
    await manager.saveSSOT('spec', { n: 1 });
    const [version] = await manager.getVersions('spec');
    expect(version!.git).toBeUndefined();
    await manager.shutdown();
  });
});
