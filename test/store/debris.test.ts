import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { lockSideFileOwner, tempFileOwner } from '../../src/store/debris.js';
import { tempProject } from '../helpers.js';

// A pid no process of this machine has.
const DEAD = 999_999_999;

describe('debris of dead writers', () => {
  it('recognises only the full names the store writes, nonce included', () => {
    expect(tempFileOwner(`${DEAD}.0123456789abcdef.3.spec.json.tmp`)).toBe(DEAD);
    expect(tempFileOwner('123-keep.txt')).toBeNull();
    expect(tempFileOwner('42')).toBeNull();
    expect(tempFileOwner('7.1.x.tmp')).toBeNull();
    expect(tempFileOwner(`${DEAD}.0123456789ABCDEF.3.x.tmp`)).toBeNull();
    expect(lockSideFileOwner(`lock.${DEAD}.0123456789abcdef`)).toBe(DEAD);
    expect(lockSideFileOwner('lock.steal')).toBeNull();
    expect(lockSideFileOwner(`lock.${DEAD}`)).toBeNull();
  });

  it('opening a store removes dead writers\' temp and lock side files, and nothing else', async () => {
    const root = await tempProject();
    const local = join(root, '.ae', 'local');
    await mkdir(join(local, 'tmp'), { recursive: true });
    const debris = [join(local, 'tmp', `${DEAD}.0123456789abcdef.1.spec.json.tmp`), join(local, `lock.${DEAD}.0123456789abcdef`)];
    const kept = [join(local, 'tmp', '123-notes.txt'), join(local, 'tmp', `${DEAD}.1.old-style.tmp`), join(local, `lock.${process.pid}.0123456789abcdef`)];
    for (const path of [...debris, ...kept]) await writeFile(path, 'x');
    const m = new EnhancedStateManager(root, { gcInterval: 0 });
    await m.initialize();
    expect((await readdir(join(local, 'tmp'))).sort()).toEqual(['123-notes.txt', `${DEAD}.1.old-style.tmp`]);
    expect(await readdir(local)).toContain(`lock.${process.pid}.0123456789abcdef`);
    expect(await readdir(local)).not.toContain(`lock.${DEAD}.0123456789abcdef`);
    await m.shutdown();
  });

  it('an export removes the temp files killed exports to the same target left beside it, and nothing else', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0 });
    await m.saveSSOT('spec', { a: 1 }, { phase: 'p' });
    const id = await m.createSnapshot('p');
    const out = join(root, 'out');
    await mkdir(out);
    await writeFile(join(out, `.p.tar.${DEAD}.0a1b2c3d.tmp`), 'left by a killed export');
    await writeFile(join(out, `.other.tar.${DEAD}.0a1b2c3d.tmp`), 'another target\'s');
    await writeFile(join(out, `.p.tar.${process.pid}.0a1b2c3d.tmp`), 'a live process\'s');
    await m.exportSnapshot(id, join(out, 'p.tar'));
    expect((await readdir(out)).sort()).toEqual([`.other.tar.${DEAD}.0a1b2c3d.tmp`, `.p.tar.${process.pid}.0a1b2c3d.tmp`, 'p.tar']);
    await m.shutdown();
  });
});
