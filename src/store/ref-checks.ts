/**
 * Reads and writes the ref checks of key directories, one file each at
 * `local/checked/<first 32 hex of sha256(key dir name)>.json` (see
 * src/model/ref-checks.ts for what they hold and when they are trusted).
 * A cache: written aside and renamed into place without fsync (a file torn
 * by a crash does not parse and is made again), and never a reason for a
 * read to fail. Losing one only costs reading the commits (and the refs) again.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { decodeRefChecks, encodeRefChecks, type RefChecks, type StatLike } from '../model/ref-checks.js';
import { writeFileAtomic } from './atomic-write.js';
import { isErrno, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';

export class RefCheckStore {
  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
    private readonly commitPath: (commitId: string) => string,
  ) {}

  /** The checks recorded for a key directory; null when there are none usable. */
  async read(dir: string): Promise<RefChecks | null> {
    try {
      const bytes = await readFileIfExists(this.fs, this.pathOf(dir));
      return bytes === null ? null : decodeRefChecks(bytes, dir);
    } catch {
      // Unreadable (a directory in its place, say): as if there were none.
      return null;
    }
  }

  async write(checks: RefChecks): Promise<void> {
    try {
      await writeFileAtomic(this.fs, this.layout.tmp, this.pathOf(checks.dir), encodeRefChecks(checks), { sync: false, createDir: true });
    } catch {
      // Only a cache: the next reader checks the commits instead.
    }
  }

  /** The stat of a commit's file now; null when it does not exist. */
  async statCommit(commitId: string): Promise<StatLike | null> {
    try {
      return await this.fs.stat(this.commitPath(commitId));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
  }

  /** The lstat of a key directory now (see `RefCopies`); null when it does not exist. */
  async statKeyDir(dir: string): Promise<StatLike | null> {
    try {
      return await this.fs.lstat(join(this.layout.keyRefs, dir));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
  }

  private pathOf(dir: string): string {
    const name = createHash('sha256').update(dir).digest('hex').slice(0, 32);
    return join(this.layout.refChecks, `${name}.json`);
  }
}
