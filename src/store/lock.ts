/**
 * The store's write lock: `local/lock`, created with O_EXCL and holding the
 * owner's pid, host and a random nonce. Reads never take it; every publish,
 * GC and repair does. A lock whose owner process is gone (same host, pid not
 * alive) is taken over at once rather than after a timeout, so a writer
 * killed with SIGKILL never blocks the store. Takeover itself is serialised
 * by a short-lived `lock.steal` file so that two waiters cannot both remove a
 * stale lock and then each believe they own a fresh one.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
// From node:timers, not the globals: fake timers (vi.useFakeTimers(), sinon)
// replace the globals, and a release that waited on a faked timer would keep
// the lock from every other process until the test advanced its clock.
import { clearTimeout as clearRealTimeout, setTimeout as setRealTimeout } from 'node:timers';
import { LockTimeoutError } from '../errors.js';
import { isErrno, readFileIfExists, type StoreFs } from './fs.js';
import { isProcessAlive } from './process.js';

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
  since: string;
}

let host: string | undefined;
/** This machine's name, asked once, when a lock is first taken or judged (readers never need it). */
const thisHost = (): string => (host ??= hostname());
// A takeover file older than this was left by a process that died mid-takeover.
const STEAL_EXPIRY_MS = 5_000;

export class StoreLock {
  constructor(
    private readonly fs: StoreFs,
    private readonly path: string,
  ) {}

  /** Waits up to `timeoutMs` for the lock; resolves to a release function. */
  async acquire(timeoutMs: number): Promise<() => Promise<void>> {
    const owner: LockOwner = { pid: process.pid, host: thisHost(), nonce: randomBytes(8).toString('hex'), since: new Date().toISOString() };
    const content = JSON.stringify(owner);
    const started = Date.now();
    let delay = 1;
    for (;;) {
      if (await this.tryCreate(content, owner.nonce)) return () => this.release(owner.nonce);
      const holder = await this.readOwner();
      if (holder !== null && !isOwnerAlive(holder)) {
        await this.takeOver(holder);
        continue;
      }
      const waited = Date.now() - started;
      if (waited >= timeoutMs) {
        throw new LockTimeoutError(this.path, waited, holder ? `pid ${holder.pid} on ${holder.host} since ${holder.since}` : 'an unknown process');
      }
      await sleep(Math.min(delay, timeoutMs - waited));
      delay = Math.min(delay * 2, 25);
    }
  }

  /** The current owner, or null when the lock is free (or unreadable). */
  async readOwner(): Promise<LockOwner | null> {
    const bytes = await readFileIfExists(this.fs, this.path);
    if (bytes === null) return null;
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as LockOwner;
      return typeof parsed.pid === 'number' && typeof parsed.nonce === 'string' ? parsed : null;
    } catch {
      // Lock files appear whole (see tryCreate), so this one was damaged by
      // something else; treat it as held by a dead owner so it can be cleared.
      return { pid: -1, host: thisHost(), nonce: '', since: 'unknown' };
    }
  }

  /**
   * The lock file appears with its whole content at once (written aside, then
   * hard-linked into place, which fails if the lock exists), so no waiter can
   * ever read a half-written owner and mistake a live lock for a dead one.
   */
  private async tryCreate(content: string, nonce: string): Promise<boolean> {
    const aside = `${this.path}.${process.pid}.${nonce}`;
    await this.fs.writeFile(aside, content);
    try {
      await this.fs.link(aside, this.path);
      return true;
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false;
      throw error;
    } finally {
      // Not awaited: the aside name is unique, and nothing waits on its removal.
      void this.fs.unlink(aside).catch(() => undefined);
    }
  }

  /** Removes the lock only if it is still ours (never one another process took over). */
  private async release(nonce: string): Promise<void> {
    const current = await this.readOwner();
    if (current?.nonce === nonce) await this.fs.unlink(this.path).catch(() => undefined);
  }

  private async takeOver(stale: LockOwner): Promise<void> {
    const stealPath = `${this.path}.steal`;
    try {
      const handle = await this.fs.open(stealPath, 'wx', 0o644);
      await handle.close();
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      const age = await this.fs.stat(stealPath).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STEAL_EXPIRY_MS) await this.fs.unlink(stealPath).catch(() => undefined);
      await sleep(2);
      return;
    }
    try {
      // Only remove the lock if it is still the stale one we looked at.
      const current = await this.readOwner();
      if (current !== null && current.nonce === stale.nonce && current.pid === stale.pid) {
        await this.fs.unlink(this.path).catch(() => undefined);
      }
    } finally {
      await this.fs.unlink(stealPath).catch(() => undefined);
    }
  }
}

/**
 * The store lock as one process's writers share it: a burst of writes (saves
 * awaited one after another, or queued together) takes the lock file once.
 * Releasing is deferred to the next turn of the event loop (a zero timeout);
 * a write of this process that asks for the lock before then takes it over
 * without touching the disk. A burst keeps the lock at most `maxHoldMs`, so other processes
 * get their turn. The lock file is the same `local/lock`, with the same
 * owner, so stale-lock recovery is unchanged: a process killed while it
 * holds the lock (a burst included) is dead, and its lock is taken over.
 * Callers never overlap (StoreContext queues its writers in memory).
 */
export class BurstLock {
  private release: (() => Promise<void>) | null = null;
  private heldSince = 0;
  private deferred: NodeJS.Timeout | null = null;
  private releasing: Promise<void> = Promise.resolve();

  constructor(
    private readonly lock: StoreLock,
    private readonly maxHoldMs = 50,
  ) {}

  /** Waits up to `timeoutMs` for the lock; resolves to a release function. */
  async acquire(timeoutMs: number): Promise<() => Promise<void>> {
    if (this.deferred !== null && this.release !== null) {
      // Still held by this process's previous write: keep it.
      clearRealTimeout(this.deferred);
      this.deferred = null;
    } else {
      await this.releasing;
      this.release = await this.lock.acquire(timeoutMs);
      this.heldSince = Date.now();
    }
    return async () => {
      if (Date.now() - this.heldSince >= this.maxHoldMs) return this.releaseNow();
      this.deferred = setRealTimeout(() => {
        this.deferred = null;
        void this.releaseNow();
      }, 0);
    };
  }

  /** Releases a lock kept for a burst at once (before the process ends, say). */
  async flush(): Promise<void> {
    if (this.deferred !== null) {
      clearRealTimeout(this.deferred);
      this.deferred = null;
      await this.releaseNow();
    }
    await this.releasing;
  }

  private releaseNow(): Promise<void> {
    const release = this.release;
    this.release = null;
    // A failed release leaves the lock file to stale-lock recovery; the write itself succeeded.
    this.releasing = release === null ? Promise.resolve() : release().catch(() => undefined);
    return this.releasing;
  }
}

/**
 * A lock from another host cannot be checked, so it is waited for. Processes
 * that share a host name but not a pid namespace (containers on one store)
 * would see each other as dead: give such containers distinct host names.
 */
function isOwnerAlive(owner: LockOwner): boolean {
  return owner.host !== thisHost() || isProcessAlive(owner.pid);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
