import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { AE_IR_SAMPLE, readAeIr, runCli, tempProject } from '../helpers.js';
import { commitAll, git, gitInit } from '../git/git-helpers.js';

type Spec = Record<string, any>;

/** A project with two saved versions of "spec": the sample, then the sample with an entity inserted first. */
async function projectWithTwoVersions(inGit = false) {
  const root = await tempProject();
  if (inGit) await gitInit(root);
  const edited: Spec = await readAeIr();
  edited.domain.unshift({ name: 'Order', fields: [] });
  const editedFile = join(root, 'edited.json');
  await writeFile(editedFile, JSON.stringify(edited));
  expect((await runCli(['--root', root, 'save', '-k', 'spec', '-i', AE_IR_SAMPLE])).code).toBe(0);
  if (inGit) await commitAll(root, 'v1');
  expect((await runCli(['--root', root, 'save', '-k', 'spec', '-i', editedFile])).code).toBe(0);
  if (inGit) await commitAll(root, 'v2');
  return { root, edited };
}

describe('ae-state diff', () => {
  it('prints a readable diff and exits 1 when versions differ, 0 when equal', async () => {
    const { root } = await projectWithTwoVersions();
    const different = await runCli(['--root', root, 'diff', '-k', 'spec']);
    expect(different.code).toBe(1);
    expect(different.stdout).toContain('--- v1 spec_');
    expect(different.stdout).toContain('+++ v2 spec_');
    expect(different.stdout).toContain('@@ /domain/0 (added) @@');
    expect(different.stdout).toContain('+   "name": "Order",');
    expect(different.stdout).toContain('1 added, 0 removed, 0 changed');
    const equal = await runCli(['--root', root, 'diff', '-k', 'spec', '-a', '2', '-b', '2']);
    expect(equal.code).toBe(0);
    expect(equal.stdout).toContain('(no differences)');
  });

  it('prints the RFC 6902 patch and summary with --json', async () => {
    const { root, edited } = await projectWithTwoVersions();
    const result = await runCli(['--root', root, 'diff', '-k', 'spec', '-a', '1', '-b', '2', '--json']);
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout);
    expect(parsed).toMatchObject({ key: 'spec', equal: false, from: { version: 1 }, to: { version: 2 } });
    expect(parsed.patch).toEqual([{ op: 'add', path: '/domain/0', value: edited.domain[0] }]);
    expect(parsed.summary).toEqual({ added: ['/domain/0'], removed: [], changed: [] });
    expect(parsed.changes).toBeUndefined();
  });

  it('exits 3 when a version is not found and 2 on errors and usage mistakes', async () => {
    const { root } = await projectWithTwoVersions();
    const missing = await runCli(['--root', root, 'diff', '-k', 'spec', '-b', '9']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('version 9 of "spec" not found');
    expect((await runCli(['--root', root, 'diff', '-k', 'spec', '--at', 'HEAD~1'])).code).toBe(2); // not a git repository
    expect((await runCli(['--root', root, 'diff', '-k', 'bad/key'])).code).toBe(2);
    expect((await runCli(['--root', root, 'diff'])).code).toBe(2);
    expect((await runCli(['--root', root, 'diff', '--snapshots', 'only-one'])).code).toBe(2);
  });

  it('compares snapshots with --snapshots A B', async () => {
    const root = await tempProject();
    const manager = new EnhancedStateManager(root);
    await manager.saveSSOT('spec', { n: 1 }, { phase: 'phase-5' });
    const a = await manager.createSnapshot('phase-5');
    await manager.saveSSOT('spec', { n: 2 }, { phase: 'phase-5' });
    const b = await manager.createSnapshot('phase-5');
    await manager.shutdown();
    const result = await runCli(['--root', root, 'diff', '--snapshots', a, b, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ added: [], removed: [], changed: [{ key: 'spec', patch: [{ op: 'replace', path: '/n', value: 2 }] }] });
    const human = await runCli(['--root', root, 'diff', '--snapshots', a, b]);
    expect(human.stdout).toContain('~ spec: spec_');
    expect(human.stdout).toContain('0 key(s) added, 0 removed, 1 changed, 0 unchanged');
    expect((await runCli(['--root', root, 'diff', '--snapshots', a, a])).code).toBe(0);
  });
});

describe('ae-state and the project git history', () => {
  it('reads and diffs the store at earlier commits with --at', async () => {
    const { root, edited } = await projectWithTwoVersions(true);
    const loaded = await runCli(['--root', root, 'load', '-k', 'spec', '--at', 'HEAD~1']);
    expect(loaded.code).toBe(0);
    expect(JSON.parse(loaded.stdout)).toEqual(await readAeIr());
    const versions = await runCli(['--root', root, 'versions', '-k', 'spec', '--at', 'HEAD~1', '--json']);
    expect(JSON.parse(versions.stdout)).toHaveLength(1);
    const diff = await runCli(['--root', root, 'diff', '-k', 'spec', '--at-a', 'HEAD~1', '--at-b', 'HEAD', '--json']);
    expect(diff.code).toBe(1);
    expect(JSON.parse(diff.stdout).patch).toEqual([{ op: 'add', path: '/domain/0', value: edited.domain[0] }]);
    expect((await runCli(['--root', root, 'load', '-k', 'spec', '--at', 'no-such-rev'])).code).toBe(1);
    expect((await runCli(['--root', root, 'diff', '-k', 'spec', '--at', 'HEAD~1'])).code).toBe(3);
  });

  it('shows provenance in versions and log, and uncommitted state in status', async () => {
    const { root } = await projectWithTwoVersions(true);
    const versions = await runCli(['--root', root, 'versions', '-k', 'spec']);
    expect(versions.stdout).toMatch(/\(main\)/);
    const log = await runCli(['--root', root, 'log', '-n', '1']);
    expect(log.stdout).toMatch(/Git: +[0-9a-f]{12} \(main\)/);
    expect((await runCli(['--root', root, 'status'])).stdout).toContain('nothing to commit');
    const file = join(root, 'c.json');
    await writeFile(file, '{"c":3}');
    await runCli(['--root', root, 'save', '-k', 'spec', '-i', file]);
    const status = await runCli(['--root', root, 'status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).groups).toEqual({
      versions: { new: 1, modified: 0, deleted: 0 },
      objects: { new: 1, modified: 0, deleted: 0 },
      commits: { new: 1, modified: 0, deleted: 0 },
    });
    const human = await runCli(['--root', root, 'status']);
    expect(human.stdout).toContain('not committed to git:');
    expect(human.stdout).toMatch(/new +\.ae\/refs\/keys\/spec\//);
  });
});

describe('ae-state diff: arguments', () => {
  it('takes versions as positional arguments', async () => {
    const { root } = await projectWithTwoVersions();
    const result = await runCli(['--root', root, 'diff', '-k', 'spec', '1', '2', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ from: { version: 1 }, to: { version: 2 } });
    expect((await runCli(['--root', root, 'diff', '-k', 'spec', '2', '2'])).code).toBe(0);
    const fromOnly = await runCli(['--root', root, 'diff', '-k', 'spec', '1', '--json']);
    expect(JSON.parse(fromOnly.stdout)).toMatchObject({ from: { version: 1 }, to: { version: 2 } });
  });

  it('refuses conflicting flags as usage errors', async () => {
    const { root } = await projectWithTwoVersions();
    const both = await runCli(['--root', root, 'diff', '-k', 'spec', '1', '2', '-a', '1']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('ae-state: error: give the versions as arguments or with -a/-b, not both\n');
    const at = await runCli(['--root', root, 'diff', '-k', 'spec', '--at', 'HEAD', '--at-a', 'HEAD~1']);
    expect(at.code).toBe(2);
    expect(at.stderr).toContain('--at reads both sides at one revision');
    expect((await runCli(['--root', root, 'diff', '-k', 'spec', '1', '2', '3'])).code).toBe(2);
  });

  it('shows one and the same version as equal after a merge renumbered it', async () => {
    const root = await tempProject();
    await gitInit(root);
    const save = (value: number) => runCli(['save', '-k', 'spec', '-i', '-'], { cwd: root, input: JSON.stringify({ value }) });
    await save(1);
    await commitAll(root, 'v1');
    await git(root, 'checkout', '-q', '-b', 'feature');
    await save(2);
    await commitAll(root, 'feature v2');
    await git(root, 'checkout', '-q', 'main');
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later timestamp than the feature's save
    await save(3);
    await commitAll(root, 'main v2');
    await git(root, 'merge', '-q', '--no-edit', 'feature');
    // Main's newest version was v2 before the merge; after it, the feature's save sorts first and it is v3.
    const result = await runCli(['diff', '-k', 'spec', '--at-a', 'HEAD~1', '--at-b', 'HEAD'], { cwd: root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^diff spec: one version on both sides\nv2 spec_\S+ \(at HEAD~1 = \w+\) = v3 spec_\S+ \(at HEAD = \w+\)\n\(no differences\)\n$/);
  });
});
