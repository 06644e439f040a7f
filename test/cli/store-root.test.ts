import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseRoot, findStoreRoot } from '../../src/cli/store-root.js';
import { tempProject } from '../helpers.js';

describe('store discovery', () => {
  it('finds the nearest .ae/ directory upwards', async () => {
    const root = await tempProject();
    await mkdir(join(root, '.ae'));
    await mkdir(join(root, 'a', 'b', '.ae'), { recursive: true });
    await mkdir(join(root, 'a', 'b', 'c'), { recursive: true });
    expect(findStoreRoot(join(root, 'a'))).toBe(root);
    expect(findStoreRoot(join(root, 'a', 'b', 'c'))).toBe(join(root, 'a', 'b'));
  });

  it('stops at a .git entry, directory or file (worktrees, submodules)', async () => {
    const root = await tempProject();
    await mkdir(join(root, '.ae'));
    await mkdir(join(root, 'repo', '.git'), { recursive: true });
    await mkdir(join(root, 'worktree', 'src'), { recursive: true });
    await writeFile(join(root, 'worktree', '.git'), 'gitdir: elsewhere\n');
    expect(findStoreRoot(join(root, 'repo'))).toBeNull();
    expect(findStoreRoot(join(root, 'worktree', 'src'))).toBeNull();
  });

  it('ignores a file named .ae', async () => {
    const root = await tempProject();
    await writeFile(join(root, '.ae'), '');
    await mkdir(join(root, '.git'));
    expect(findStoreRoot(root)).toBeNull();
  });

  it('prefers --root, then AE_STATE_ROOT, then the search, then the current directory', async () => {
    const root = await tempProject();
    await mkdir(join(root, '.git'));
    expect(chooseRoot('x', { AE_STATE_ROOT: '/y' }, root)).toEqual({ root: join(root, 'x'), hasStore: false, source: 'option' });
    expect(chooseRoot(undefined, { AE_STATE_ROOT: '/y' }, root)).toMatchObject({ root: '/y', source: 'environment' });
    expect(chooseRoot(undefined, { AE_STATE_ROOT: '' }, root)).toEqual({ root, hasStore: false, source: 'work-tree', searchedFrom: root });
    await mkdir(join(root, 'fresh'));
    expect(chooseRoot(undefined, {}, join(root, 'fresh'))).toEqual({ root, hasStore: false, source: 'work-tree', searchedFrom: join(root, 'fresh') });
    await mkdir(join(root, '.ae'));
    await mkdir(join(root, 'sub'));
    expect(chooseRoot(undefined, {}, join(root, 'sub'))).toEqual({ root, hasStore: true, source: 'discovered' });
    expect(chooseRoot(undefined, {}, join(root, 'sub'), false)).toEqual({ root: join(root, 'sub'), hasStore: false, source: 'cwd' });
  });
});
