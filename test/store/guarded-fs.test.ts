import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFs } from '../../src/store/fs.js';
import { guardStoreFs } from '../../src/store/guarded-fs.js';
import { tempProject } from '../helpers.js';

async function setup() {
  const root = await tempProject();
  const store = join(root, '.ae');
  const outside = join(root, 'outside');
  await mkdir(join(store, 'refs'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'outside');
  return { root, store, outside, fs: guardStoreFs(nodeFs, store) };
}

describe('the guarded StoreFs', () => {
  it('refuses to read through a link to a file, naming the link', async () => {
    const { store, outside, fs } = await setup();
    await symlink(join(outside, 'secret.txt'), join(store, 'refs', 'r.json'));
    await expect(fs.readFile(join(store, 'refs', 'r.json'))).rejects.toMatchObject({ code: 'INTEGRITY', data: { path: join(store, 'refs', 'r.json') } });
    await expect(fs.stat(join(store, 'refs', 'r.json'))).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(() => fs.readFileSync(join(store, 'refs', 'r.json'))).toThrow(/symbolic link/);
  });

  it('refuses to write, list, create or delete under a linked directory, and leaves its target alone', async () => {
    const { store, outside, fs } = await setup();
    await symlink(outside, join(store, 'local'));
    const inLink = join(store, 'local', 'HEAD');
    await expect(fs.writeFile(inLink, 'x')).rejects.toMatchObject({ code: 'INTEGRITY', data: { path: join(store, 'local') } });
    await expect(fs.open(inLink, 'w')).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(fs.readdir(join(store, 'local'))).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(fs.mkdir(join(store, 'local', 'tmp'), { recursive: true })).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(fs.unlink(join(store, 'local', 'secret.txt'))).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(fs.rename(join(store, 'refs'), join(store, 'local', 'moved'))).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await readdir(outside)).toEqual(['secret.txt']);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('outside');
  });

  it('refuses a store directory that is itself a link', async () => {
    const { root, outside } = await setup();
    await symlink(outside, join(root, 'linked-store'));
    const fs = guardStoreFs(nodeFs, join(root, 'linked-store'));
    await expect(fs.readFile(join(root, 'linked-store', 'secret.txt'))).rejects.toMatchObject({ code: 'INTEGRITY' });
  });

  it('refuses a named pipe without waiting for a writer', async () => {
    const { store, fs } = await setup();
    execFileSync('mkfifo', [join(store, 'refs', 'pipe.json')]);
    await expect(fs.readFile(join(store, 'refs', 'pipe.json'))).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringMatching(/named pipe/) });
  });

  it('reads and writes real files as before, and passes paths outside the store through', async () => {
    const { store, outside, fs } = await setup();
    await fs.writeFile(join(store, 'refs', 'a.json'), '{}');
    expect((await fs.readFile(join(store, 'refs', 'a.json'))).toString()).toBe('{}');
    expect(await fs.readdir(join(store, 'refs'))).toEqual(['a.json']);
    expect((await fs.readFile(join(outside, 'secret.txt'))).toString()).toBe('outside');
  });
});
