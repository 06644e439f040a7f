import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { FIXTURES, run, runCli, tempProject } from '../helpers.js';
import { commitAll, git, gitInit } from './git-helpers.js';

const T = Date.UTC(2025, 5, 1, 12, 0, 0);

/** Saves in a child process whose store clock is pinned to `clockMs`. */
async function pinnedSave(root: string, clockMs: number, maxVersions: number, ...saves: Array<[string, unknown]>): Promise<string[]> {
  const args = saves.flatMap(([key, data]) => [key, JSON.stringify(data)]);
  return JSON.parse(await run(process.execPath, [join(FIXTURES, 'pinned-save.mjs'), root, String(clockMs), String(maxVersions), ...args]));
}

/** Every visible version of a key: number, full key and data, newest first. */
async function snapshotOf(root: string, key: string, maxVersions: number) {
  const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions });
  const versions = await m.getVersions(key);
  const all = [];
  for (const v of versions) all.push({ version: v.version, key: v.key, checksum: v.checksum, data: await m.loadSSOT(key, v.version) });
  await m.shutdown();
  return all;
}

async function expectMergedCleanly(root: string): Promise<void> {
  expect((await git(root, 'diff', '--name-only', '--diff-filter=U')).trim()).toBe('');
  expect((await git(root, 'status', '--porcelain')).trim()).toBe('');
}

describe('version numbers across git merges', () => {
  it('merges two branches that saved one key in the same millisecond without conflicts, and numbers them the same on every clone', async () => {
    const root = await tempProject();
    await gitInit(root);
    await pinnedSave(root, T, 10, ['spec', { step: 'base' }]);
    await commitAll(root, 'base');
    await git(root, 'checkout', '-q', '-b', 'feature');
    const [feature] = await pinnedSave(root, T + 1000, 10, ['spec', { side: 'feature' }]);
    await commitAll(root, 'feature');
    await git(root, 'checkout', '-q', 'main');
    const [main] = await pinnedSave(root, T + 1000, 10, ['spec', { side: 'main' }]);
    await commitAll(root, 'main');
    expect(main).toBe(feature); // the same full key: same logical key, same millisecond

    const clone = await tempProject();
    await git(clone, 'clone', '-q', root, '.');
    await git(root, 'merge', '-q', '--no-edit', 'feature');
    await expectMergedCleanly(root);
    await git(clone, 'fetch', '-q', 'origin', 'feature');
    await git(clone, 'merge', '-q', '--no-edit', 'FETCH_HEAD');

    const merged = await snapshotOf(root, 'spec', 10);
    expect(merged.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(merged.slice(0, 2).map((v) => v.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([{ side: 'feature' }, { side: 'main' }]);
    expect(await snapshotOf(clone, 'spec', 10)).toEqual(merged);
    const viaNumber = await runCli(['load', '-k', 'spec', '-v', String(merged[1]!.version)], { cwd: root });
    expect(JSON.parse(viaNumber.stdout)).toEqual(merged[1]!.data);
    const m = new EnhancedStateManager(root, { gcInterval: 0 });
    expect((await m.fsck()).ok).toBe(true);
    await m.shutdown();
  }, 60_000);

  it('keeps every version\'s number and data after merging ten branches, through saves past maxVersions, GC and reopening', async () => {
    const maxVersions = 12;
    const root = await tempProject();
    await gitInit(root);
    await pinnedSave(root, T, maxVersions, ['spec', { step: 'base' }]);
    await commitAll(root, 'base');
    for (let b = 0; b < 10; b++) {
      await git(root, 'checkout', '-q', '-b', `branch${b}`, 'main');
      // Interleaved in time across branches; branches 0 and 1 share milliseconds.
      await pinnedSave(root, T + 1000 + (b < 2 ? 0 : b), maxVersions, ['spec', { b, n: 1 }], ['spec', { b, n: 2 }]);
      await commitAll(root, `branch ${b}`);
    }
    await git(root, 'checkout', '-q', 'main');
    for (let b = 0; b < 10; b++) {
      await git(root, 'merge', '-q', '--no-edit', `branch${b}`);
      await expectMergedCleanly(root);
    }
    const merged = await snapshotOf(root, 'spec', maxVersions);
    expect(merged.map((v) => v.version)).toEqual(Array.from({ length: 21 }, (_, i) => 21 - i));

    // Saves past maxVersions remove the oldest versions; the survivors keep their numbers and data.
    // A defaultTTL long enough that GC keeps the versions saved at the pinned (past) time.
    const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions, defaultTTL: 10 * 365 * 86400 });
    for (let i = 0; i < 5; i++) await m.saveSSOT('spec', { after: i });
    await m.runGarbageCollection();
    await m.shutdown();
    const after = await snapshotOf(root, 'spec', maxVersions);
    expect(after).toHaveLength(maxVersions);
    expect(after.slice(0, 5).map((v) => [v.version, v.data])).toEqual([4, 3, 2, 1, 0].map((i) => [22 + i, { after: i }]));
    const survivors = after.slice(5);
    expect(survivors).toEqual(merged.slice(0, survivors.length));
    await commitAll(root, 'after');
    const clone = await tempProject();
    await git(clone, 'clone', '-q', root, '.');
    expect(await snapshotOf(clone, 'spec', maxVersions)).toEqual(after);
  }, 120_000);
});
