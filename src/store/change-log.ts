/**
 * The writers' side of the change log `local/stats/changes` (line shapes in
 * src/model/change-log.ts, format in docs/FORMAT.md): each hold of the write
 * lock appends a begin line before anything changes and an end line after;
 * a writer that knows what it changes declares it in between, before it
 * changes it. Statistics then read again only the directories declared.
 *
 * One descriptor opened for appending is kept from session to session, so a
 * save costs no open of the log: each session starts (holding the lock, so
 * no other writer rotates the log meanwhile) by checking that the path still
 * names the file the descriptor writes to, and opens it again otherwise
 * (after a rotation by this or another process, or a deletion).
 *
 * Lines are appended without fsync: a process killed mid-session leaves its
 * lines in the page cache (the begin line always precedes the change), and a
 * crash of the machine, which may lose them, is detected by the reader as a
 * new boot. When a line cannot be appended at all, the index's main file is
 * removed instead, so the next statistics rebuild rather than miss a change.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { BeginLine, DeclareLine, EndLine, LeftObjectsLine } from '../model/change-log.js';
import { isErrno, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';

/** Past this size the log is moved to `changes.old` at the next begin; a reader further behind than that checks everything. */
export const CHANGE_LOG_ROTATE_BYTES = 256 * 1024;

export function statsDirectory(layout: StoreLayout): string {
  return join(layout.local, 'stats');
}

export class ChangeLog {
  private session: { token: string; fanouts: Set<string>; commitIds: string[]; isBroken: boolean } | null = null;
  /** The log opened for appending, with its inode, kept between sessions. */
  private held: { handle: FileHandle; ino: number } | null = null;

  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
  ) {}

  get path(): string {
    return join(statsDirectory(this.layout), 'changes');
  }

  /** Before the lock's work: the session starts. */
  async begin(): Promise<void> {
    const session = { token: randomBytes(8).toString('hex'), fanouts: new Set<string>(), commitIds: [] as string[], isBroken: false };
    this.session = session;
    await this.rotateIfLarge().catch(() => undefined);
    await this.append(session, { b: session.token } satisfies BeginLine);
  }

  /**
   * Before changing them: the key directories and the objects (by checksum)
   * the session may change, and which of those objects were written as new
   * loose files (`created`, see `DeclareLine.n`).
   */
  async declare(keyDirs: Iterable<string>, checksums: Iterable<string>, created: Iterable<string> = []): Promise<void> {
    const session = this.session;
    if (session === null || session.isBroken) return;
    const o = [...new Set(checksums)];
    for (const checksum of o) session.fanouts.add(checksum.slice(0, 2));
    const n = [...new Set(created)];
    const line: DeclareLine = { t: session.token, k: [...new Set(keyDirs)], o };
    if (n.length > 0) line.n = n;
    await this.append(session, line);
  }

  /** Just before a commit's rename into `commits/`: the session names it in its end line. */
  notePublishing(commitId: string): void {
    this.session?.commitIds.push(commitId);
  }

  /**
   * Without the lock: objects that were written (staged) and that no commit
   * will declare, such as a rolled-back transaction's, so statistics count
   * them even in a fanout a later session left trusted.
   */
  async noteLeftObjects(checksums: Iterable<string>): Promise<void> {
    const s = [...new Set(checksums)];
    if (s.length === 0) return;
    // Outside the lock another process may rotate the log at any moment: write to the file its path names now.
    try {
      const handle = await this.fs.open(this.path, 'a', 0o644);
      try {
        const bytes = Buffer.from(`${JSON.stringify({ s } satisfies LeftObjectsLine)}\n`);
        const { bytesWritten } = await handle.write(bytes);
        if (bytesWritten !== bytes.length) throw new Error(`wrote ${bytesWritten} of ${bytes.length} bytes of a change-log line`);
      } finally {
        await handle.close();
      }
    } catch {
      await this.fs.unlink(join(statsDirectory(this.layout), 'main.json')).catch(() => undefined);
    }
  }

  /** After the lock's work, before its release: the directories' mtimes as the session leaves them. */
  async end(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session === null || session.isBroken) return;
    const mtimeOf = async (path: string) => (await this.fs.lstat(path).catch(() => null))?.mtimeMs ?? -1;
    const f: Record<string, number> = {};
    for (const fanout of session.fanouts) f[fanout] = await mtimeOf(join(this.layout.objects, fanout));
    const line: EndLine = { e: session.token, c: await mtimeOf(this.layout.commits), r: await mtimeOf(this.layout.keyRefs), f, m: session.commitIds };
    await this.append(session, line);
  }

  private async append(session: { isBroken: boolean }, line: object): Promise<void> {
    try {
      const { handle } = this.held ?? (await this.open());
      const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
      // A short write (a full disk) would leave a torn line that the next one joins: count it as a failure.
      const { bytesWritten } = await handle.write(bytes);
      if (bytesWritten !== bytes.length) throw new Error(`wrote ${bytesWritten} of ${bytes.length} bytes of a change-log line`);
    } catch {
      await this.close();
      // Without the line a reader could trust a directory this session changes: take the index away instead.
      session.isBroken = true;
      await this.fs.unlink(join(statsDirectory(this.layout), 'main.json')).catch(() => undefined);
    }
  }

  private async open(): Promise<{ handle: FileHandle; ino: number }> {
    const handle = await this.fs.open(this.path, 'a', 0o644).catch(async (error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw error;
      await this.fs.mkdir(statsDirectory(this.layout), { recursive: true });
      return this.fs.open(this.path, 'a', 0o644);
    });
    try {
      this.held = { handle, ino: (await handle.stat()).ino };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return this.held;
  }

  /** Closes the descriptor kept between sessions (the next session opens the log again). */
  async close(): Promise<void> {
    const held = this.held;
    this.held = null;
    await held?.handle.close().catch(() => undefined);
  }

  /** Rotates a large log, and lets go of a descriptor that no longer writes to the file at the log's path. */
  private async rotateIfLarge(): Promise<void> {
    const stats = await this.fs.lstat(this.path).catch(() => null);
    if (stats !== null && stats.size >= CHANGE_LOG_ROTATE_BYTES) {
      await this.close();
      await this.fs.rename(this.path, `${this.path}.old`);
    } else if (stats === null || stats.ino !== this.held?.ino) {
      await this.close();
    }
  }
}
