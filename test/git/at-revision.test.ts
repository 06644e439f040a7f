import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager, GitError } from '../../src/index.js';
import { readAeIr, tempProject } from '../helpers.js';
import { commitAll, git, gitInit } from './git-helpers.js';

type Spec = Record<string, any>;

/** A project in git with three commits, each saving one version of "spec". */
async function projectWithHistory() {
  const root = await tempProject();
  await gitInit(root);
  const manager = new EnhancedStateManager(root, { compressionThreshold: 256 });
  const v1: Spec = await readAeIr();
  const v2: Spec = structuredClone(v1);
  v2.domain.unshift({ name: 'Order', fields: [] });
  const v3: Spec = structuredClone(v2);
  v3.invariants = [];
  const commits: string[] = [];
  for (const [i, data] of [v1, v2, v3].entries()) {
    await manager.saveSSOT('spec', data);
    commits.push(await commitAll(root, `spec v${i + 1}`));
  }
  return { root, manager, v1, v2, v3, commits };
}

describe('reading the store as committed in git', () => {
  it('loads a key as it was at HEAD~N, a commit id, a short id, a branch and an annotated tag', async () => {
    const { root, manager, v1, v2, v3, commits } = await projectWithHistory();
    await git(root, 'tag', '-a', 'release-1', '-m', 'first release', commits[0]!);
    await git(root, 'branch', 'old', commits[1]!);
    expect(await manager.loadSSOT('spec', { at: 'HEAD' })).toEqual(v3);
    expect(await manager.loadSSOT('spec', { at: 'HEAD~1' })).toEqual(v2);
    expect(await manager.loadSSOT('spec', { at: 'HEAD^^' })).toEqual(v1);
    expect(await manager.loadSSOT('spec', { at: commits[1]! })).toEqual(v2);
    expect(await manager.loadSSOT('spec', { at: commits[0]!.slice(0, 8) })).toEqual(v1);
    expect(await manager.loadSSOT('spec', { at: 'old' })).toEqual(v2);
    expect(await manager.loadSSOT('spec', { at: 'release-1' })).toEqual(v1);
    expect(await manager.loadSSOT('spec', { at: 'main~2' })).toEqual(v1);
    await manager.shutdown();
  });

  it('numbers and lists versions as they were committed, and loads a numbered version at a revision', async () => {
    const { manager, v1, commits } = await projectWithHistory();
    const atHead1 = await manager.getVersions('spec', { at: 'HEAD~1' });
    expect(atHead1.map((v) => v.version)).toEqual([2, 1]);
    // v1 was saved before the first git commit; v2 on top of it.
    expect(atHead1.map((v) => v.git)).toEqual([{ commit: commits[0], branch: 'main' }, undefined]);
    expect(await manager.loadSSOT('spec', { version: 1, at: 'HEAD~1' })).toEqual(v1);
    expect(await manager.loadSSOT('spec', { version: 3, at: 'HEAD~1' })).toBeNull();
    expect((await manager.loadEntry('spec', { at: 'HEAD~2' }))!.version).toBe(1);
    await manager.shutdown();
  });

  it('ignores versions whose store commit was not committed to git with them', async () => {
    const { root, manager, v3 } = await projectWithHistory();
    // A version record committed to git without its commit file is invisible there, as on disk.
    await manager.saveSSOT('spec', { newer: true });
    await git(root, 'add', '.ae/refs', '.ae/objects');
    await git(root, 'commit', '-q', '-m', 'refs without their commit');
    expect(await manager.loadSSOT('spec', { at: 'HEAD' })).toEqual(v3);
    expect((await manager.getVersions('spec', { at: 'HEAD' })).length).toBe(3);
    await manager.shutdown();
  });

  it('answers null for a key that did not exist at the revision, and never touches the working tree', async () => {
    const { root, manager } = await projectWithHistory();
    await manager.saveSSOT('later', { a: 1 });
    const before = await git(root, 'status', '--porcelain', '--untracked-files=all');
    const headFile = await readFile(join(root, '.git', 'HEAD'), 'utf8');
    expect(await manager.loadSSOT('later', { at: 'HEAD' })).toBeNull();
    expect(await manager.getVersions('later', { at: 'HEAD~2' })).toEqual([]);
    expect(await git(root, 'status', '--porcelain', '--untracked-files=all')).toBe(before);
    expect(await readFile(join(root, '.git', 'HEAD'), 'utf8')).toBe(headFile);
    expect(await manager.loadSSOT('later')).toEqual({ a: 1 });
    await manager.shutdown();
  });

  it('refuses unknown revisions and projects outside git with a GitError', async () => {
    const { manager } = await projectWithHistory();
    await expect(manager.loadSSOT('spec', { at: 'no-such-branch' })).rejects.toBeInstanceOf(GitError);
    await expect(manager.loadSSOT('spec', { at: 'HEAD~10' })).rejects.toThrow(/not that deep/);
    await expect(manager.loadSSOT('spec', { at: 'HEAD:foo' })).rejects.toThrow(/invalid git revision/);
    await manager.shutdown();
    const outside = new EnhancedStateManager(await tempProject());
    await expect(outside.loadSSOT('spec', { at: 'HEAD' })).rejects.toMatchObject({ code: 'GIT' });
    await outside.shutdown();
  });

  it('detects an object altered in git history', async () => {
    const { root, manager } = await projectWithHistory();
    const [newest] = await manager.getVersions('spec');
    const objectPath = join(root, '.ae', 'objects', newest!.checksum.slice(0, 2), newest!.checksum.slice(2));
    await writeFile(objectPath, '{"tampered":true}');
    await commitAll(root, 'tamper');
    await expect(manager.loadSSOT('spec', { at: 'HEAD' })).rejects.toMatchObject({ code: 'INTEGRITY' });
    await manager.shutdown();
  });

  it('diffs a key between two revisions', async () => {
    const { manager } = await projectWithHistory();
    const diff = await manager.diff('spec', { at: 'HEAD~1' }, { at: 'HEAD' });
    expect(diff.from).toMatchObject({ version: 2, at: 'HEAD~1' });
    expect(diff.to).toMatchObject({ version: 3, at: 'HEAD' });
    expect(diff.patch).toEqual([{ op: 'remove', path: '/invariants/0' }]);
    const within = await manager.diff('spec', { at: 'HEAD~1' });
    expect(within.summary.added).toEqual([]);
    expect(within.from.version).toBe(2);
    expect(within.to.version).toBe(3);
    await manager.shutdown();
  });
});
