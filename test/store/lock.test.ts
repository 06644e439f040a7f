import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LockTimeoutError } from '../../src/errors.js';
import { nodeFs } from '../../src/store/fs.js';
import { BurstLock, StoreLock } from '../../src/store/lock.js';
import { tempProject } from '../helpers.js';

/** Whether the lock file is gone within a few seconds (a loaded machine may run the release timer late). */
async function lockFileRemoved(path: string): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const gone = await stat(path).then(() => false, (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    if (gone) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

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

  it('keeps the lock file across a burst of one process\'s writes, and releases it once the burst is over', async () => {
    const dir = await tempProject();
    const path = join(dir, 'lock');
    // A longest turn no scheduler delay reaches: the lock is kept however slowly this test runs.
    const lock = new BurstLock(new StoreLock(nodeFs, path), 60_000);
    const first = await lock.acquire(1000);
    const owner = await readFile(path, 'utf8');
    await first();
    // The next write of the burst takes the lock over: the same owner, the same file.
    const second = await lock.acquire(1000);
    expect(await readFile(path, 'utf8')).toBe(owner);
    await second();
    // Read at once, without giving the event loop a turn (an asynchronous read could let the release run first).
    expect(readFileSync(path, 'utf8')).toBe(owner);
    // No write asked for it on the next turn of the event loop: the burst is over.
    await expect(lockFileRemoved(path)).resolves.toBe(true);
  });

  it('lets another writer in once a burst has held the lock for its longest turn', async () => {
    const dir = await tempProject();
    const path = join(dir, 'lock');
    const lock = new BurstLock(new StoreLock(nodeFs, path), 20);
    const release = await lock.acquire(1000);
    await new Promise((r) => setTimeout(r, 30));
    await release();
    // Released at once, not deferred: a waiting process gets its turn.
    const other = await new StoreLock(nodeFs, path).acquire(0);
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    await other();
    await lock.flush();
  });

  it('releases the lock of a burst even while fake timers replace the global ones', async () => {
    const dir = await tempProject();
    const path = join(dir, 'lock');
    const lock = new BurstLock(new StoreLock(nodeFs, path));
    const release = await lock.acquire(1000);
    vi.useFakeTimers();
    try {
      await release();
    } finally {
      vi.useRealTimers();
    }
    await expect(lockFileRemoved(path)).resolves.toBe(true);
  });

  it('flush releases a lock a burst still keeps', async () => {
    const dir = await tempProject();
    const path = join(dir, 'lock');
    const lock = new BurstLock(new StoreLock(nodeFs, path));
    await (await lock.acquire(1000))();
    await lock.flush();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
