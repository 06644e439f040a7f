import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planChanges } from '../../src/model/change-log.js';
import { CHANGE_LOG_ROTATE_BYTES, ChangeLog } from '../../src/store/change-log.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { storeLayout } from '../../src/store/layout.js';
import { tempProject } from '../helpers.js';

const C1 = 'c'.repeat(64);

describe('ChangeLog', () => {
  it('appends a begin line, what is declared, and the mtimes the session leaves', async () => {
    const layout = storeLayout(await tempProject(), '.ae');
    await mkdir(join(layout.objects, 'cc'), { recursive: true });
    await mkdir(layout.commits, { recursive: true });
    const log = new ChangeLog(nodeFs, layout);
    await log.begin();
    await log.declare(['spec', 'spec'], [C1]);
    await log.end();
    const text = await readFile(log.path, 'utf8');
    const [begin, declare, end] = text.trim().split('\n').map((line) => JSON.parse(line));
    expect(declare).toEqual({ t: begin.b, k: ['spec'], o: [C1] });
    expect(end).toMatchObject({ e: begin.b, r: -1, f: { cc: expect.any(Number) } });
    expect(end.c).toBeGreaterThan(0);
    const plan = planChanges(text);
    expect(plan.isPrecise).toBe(true);
    expect([...plan.keyDirs]).toEqual(['spec']);
  });

  it('removes the index main file when a line cannot be written, so statistics rebuild', async () => {
    const layout = storeLayout(await tempProject(), '.ae');
    const main = join(layout.local, 'stats', 'main.json');
    await mkdir(join(layout.local, 'stats'), { recursive: true });
    await writeFile(main, '{}');
    const fs: StoreFs = {
      ...nodeFs,
      open: (async () => {
        throw Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' });
      }) as StoreFs['open'],
    };
    const log = new ChangeLog(fs, layout);
    await log.begin();
    await log.declare(['spec'], []);
    await log.end();
    await expect(readFile(main)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps writing to the file at the log path when another writer rotated or removed it between sessions', async () => {
    const layout = storeLayout(await tempProject(), '.ae');
    await mkdir(layout.commits, { recursive: true });
    const mine = new ChangeLog(nodeFs, layout);
    const other = new ChangeLog(nodeFs, layout);
    const session = async (log: ChangeLog, key: string) => {
      await log.begin();
      await log.declare([key], []);
      await log.end();
    };
    await session(mine, 'first');
    // Another process fills the log past the rotation size and rotates it at its next session.
    await writeFile(mine.path, `${'x'.repeat(CHANGE_LOG_ROTATE_BYTES)}\n`, { flag: 'a' });
    await session(other, 'rotated');
    await session(mine, 'after-rotation');
    expect([...planChanges(await readFile(mine.path, 'utf8')).keyDirs]).toEqual(['rotated', 'after-rotation']);
    // Then the log is moved away by hand: the next session starts a new file.
    await rename(mine.path, `${mine.path}.moved`);
    await session(mine, 'after-move');
    expect([...planChanges(await readFile(mine.path, 'utf8')).keyDirs]).toEqual(['after-move']);
    await mine.close();
    await other.close();
  });
});
