import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockTimeoutError } from '../../src/errors.js';
import { nodeFs } from '../../src/store/fs.js';
import { StoreLock } from '../../src/store/lock.js';
import { tempProject } from '../helpers.js';

describe('store lock', () => {
  it('lets one holder in at a time and hands over on release', async () => {
    const dir = await tempProject();
    const lock = new StoreLock(nodeFs, join(dir, 'lock'));
    const order: string[] = [];
    const release = await lock.acquire(5000);
    const waiting = lock.acquire(5000).then(async (releaseSecond) => {
      order.push('second');
      await releaseSecond();
    });
    await new Promise((r) => setTimeout(r, 30));
    order.push('first releases');
    await release();
    await waiting;
    expect(order).toEqual(['first releases', 'second']);
  });

  it('fails with LockTimeoutError naming the holder when the lock is not released in time', async () => {
    const dir = await tempProject();
    const lock = new StoreLock(nodeFs, join(dir, 'lock'));
    const release = await lock.acquire(1000);
    const error = await lock.acquire(50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect((error as Error).message).toContain(`pid ${process.pid}`);
    await release();
  });

  it('takes over at once a lock left by a process that was killed', async () => {
    const dir = await tempProject();
    const path = join(dir, 'lock');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 1000)']);
    await new Promise((r) => child.once('spawn', r));
    const deadPid = child.pid!;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await writeFile(path, JSON.stringify({ pid: deadPid, host: (await import('node:os')).hostname(), nonce: 'dead', since: 'then' }));
    const release = await new StoreLock(nodeFs, path).acquire(200);
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    await release();
  });
});
