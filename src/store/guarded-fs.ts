/**
 * A `StoreFs` that never follows a symbolic link inside the store directory.
 *
 * The store directory lives in git, so a clone can bring anything git can
 * record: a symbolic link where the store expects `local/`, `local/tmp`, a
 * key's ref directory or an object, pointing anywhere on the machine. Had the
 * store followed one, a read could delete files outside the project, or a
 * save write HEAD and refs there. So every path under the store directory is
 * checked before it is opened, created, renamed or deleted:
 *  - each directory from the store directory down to the path's parent is
 *    `lstat`ed and must be a real directory (verified once per process);
 *  - the path itself is opened with O_NOFOLLOW (a link fails with ELOOP),
 *    and what is read must be a regular file;
 *  - `stat` answers for the entry itself, and refuses a link.
 * Every refusal is an `IntegrityError` naming the path, so readers refuse,
 * writers write nothing, and fsck reports it (`fsck --repair` removes the
 * link itself, never its target). Paths outside the store directory (an
 * export target the user named) pass through unchanged.
 */
import { constants, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { IntegrityError } from '../errors.js';
import { isErrno, type StoreFs } from './fs.js';
import { withDescriptor } from './descriptor-pool.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = constants;

// O_NONBLOCK on reads: opening a FIFO for reading would otherwise wait forever for a writer.
const OPEN_FLAGS: Record<string, number> = {
  r: O_RDONLY | O_NONBLOCK,
  'r+': O_RDWR,
  w: O_WRONLY | O_CREAT | O_TRUNC,
  wx: O_WRONLY | O_CREAT | O_TRUNC | O_EXCL,
  'w+': O_RDWR | O_CREAT | O_TRUNC,
  a: O_WRONLY | O_CREAT | O_APPEND,
  ax: O_WRONLY | O_CREAT | O_APPEND | O_EXCL,
  'a+': O_RDWR | O_CREAT | O_APPEND,
};

/** Why an entry of the store cannot be used as the kind of thing the store expects. */
export function unsafeEntryError(path: string, stats: Stats | 'link'): IntegrityError {
  const what = stats === 'link' || stats.isSymbolicLink() ? 'a symbolic link' : describeKind(stats);
  return new IntegrityError(`${path} is ${what}; the store never follows links or opens special files (run fsck --repair to remove it)`, {
    path,
  });
}

function describeKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory where a file belongs';
  if (stats.isFile()) return 'a file where a directory belongs';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  return 'a device file';
}

/** Wraps `base` so that no access under `storeDir` follows a symbolic link. */
export function guardStoreFs(base: StoreFs, storeDir: string): StoreFs {
  if (isGuarded(base)) return base;
  return new GuardedFs(base, resolve(storeDir)).asStoreFs();
}

/** The unguarded file system under a guarded one (to pick Node-only fast paths). */
export function baseFsOf(fs: StoreFs): StoreFs {
  return isGuarded(fs) ? (fs as unknown as { [BASE]: StoreFs })[BASE] : fs;
}

const BASE = Symbol('guarded base');

function isGuarded(fs: StoreFs): boolean {
  return BASE in fs;
}

class GuardedFs {
  // Directories found real once stay real for this process unless the store
  // itself removes or renames them (then they are checked again).
  private readonly verifiedDirs = new Set<string>();

  constructor(
    private readonly base: StoreFs,
    private readonly storeDir: string,
  ) {}

  private isInside(path: string): boolean {
    return path === this.storeDir || path.startsWith(this.storeDir + sep);
  }

  /** Checks every directory from the store directory down to `path`'s parent; answers the resolved path. */
  private checkParents(path: unknown): string {
    const full = resolve(String(path));
    if (!this.isInside(full)) return full;
    const parents: string[] = [];
    for (let dir = full === this.storeDir ? null : dirname(full); dir !== null && this.isInside(dir); dir = dir === this.storeDir ? null : dirname(dir)) {
      if (this.verifiedDirs.has(dir)) break;
      parents.push(dir);
    }
    for (const dir of parents.reverse()) {
      const stats = this.base.lstatSync(dir);
      if (stats === undefined) return full; // Missing: the call fails with ENOENT, or mkdir creates it.
      if (!stats.isDirectory()) throw unsafeEntryError(dir, stats);
      this.verifiedDirs.add(dir);
    }
    return full;
  }

  /** Checks the entry itself: not a link, and of the expected kind when it exists. */
  private checkEntry(full: string, kind: 'file' | 'dir' | 'any'): Stats | undefined {
    if (!this.isInside(full)) return undefined;
    const stats = this.base.lstatSync(full);
    if (stats === undefined) return undefined;
    const isExpected = kind === 'dir' ? stats.isDirectory() : kind === 'file' ? stats.isFile() : stats.isFile() || stats.isDirectory();
    if (!isExpected) throw unsafeEntryError(full, stats);
    if (stats.isDirectory()) this.verifiedDirs.add(full);
    return stats;
  }

  /**
   * `checkEntry` for a directory. One verified already is not checked again,
   * as for parents: a key's directory is listed on every save.
   */
  private checkDir(full: string): void {
    if (!this.verifiedDirs.has(full)) this.checkEntry(full, 'dir');
  }

  private forget(path: string): void {
    // A verified directory's parents are all verified (checkParents walks down
    // from the store): when `path` is not, nothing under it is either, and the
    // walk below (over every directory verified so far) is skipped. Renames of
    // temporary files, several per save, take this path.
    if (!this.verifiedDirs.has(path)) return;
    for (const dir of this.verifiedDirs) if (dir === path || dir.startsWith(path + sep)) this.verifiedDirs.delete(dir);
  }

  private flagsOf(flags: unknown, full: string): number | string {
    if (!this.isInside(full)) return (flags as string | number | undefined) ?? 'r';
    const numeric = typeof flags === 'number' ? flags : OPEN_FLAGS[String(flags ?? 'r')];
    if (numeric === undefined) throw new TypeError(`unsupported open flags ${String(flags)}`);
    return numeric | O_NOFOLLOW;
  }

  private async readFile(path: unknown, options?: unknown): Promise<Buffer | string> {
    const full = this.checkParents(path);
    if (!this.isInside(full)) return (this.base.readFile as (...a: unknown[]) => Promise<Buffer>)(full, options);
    // The descriptor stays open across awaits: it takes a permit, so thousands of concurrent reads stay within the limit.
    return withDescriptor(async () => {
      const handle = await this.openChecked(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) throw unsafeEntryError(full, stats);
        return await (handle.readFile as (o?: unknown) => Promise<Buffer | string>)(options);
      } finally {
        await handle.close();
      }
    });
  }

  private async openChecked(full: string, flags: number | string, mode?: unknown): Promise<Awaited<ReturnType<StoreFs['open']>>> {
    try {
      return await (this.base.open as (...a: unknown[]) => ReturnType<StoreFs['open']>)(full, flags, mode);
    } catch (error) {
      if (isErrno(error, 'ELOOP')) throw unsafeEntryError(full, 'link');
      throw error;
    }
  }

  asStoreFs(): StoreFs {
    const { base } = this;
    const call = (name: keyof StoreFs) => base[name] as (...a: unknown[]) => Promise<unknown>;
    const guarded = {
      [BASE]: base,
      readFile: (path: unknown, options?: unknown) => this.readFile(path, options),
      readdir: async (path: unknown, options?: unknown) => {
        const full = this.checkParents(path);
        this.checkDir(full);
        return call('readdir')(full, options);
      },
      stat: async (path: unknown) => {
        const full = this.checkParents(path);
        if (!this.isInside(full)) return call('stat')(full);
        const stats = (await call('lstat')(full)) as Stats;
        if (stats.isSymbolicLink()) throw unsafeEntryError(full, stats);
        return stats;
      },
      lstat: async (path: unknown) => call('lstat')(this.checkParents(path)),
      mkdir: async (path: unknown, options?: unknown) => {
        const full = this.checkParents(path);
        this.checkDir(full);
        return call('mkdir')(full, options);
      },
      open: async (path: unknown, flags?: unknown, mode?: unknown) => {
        const full = this.checkParents(path);
        return this.openChecked(full, this.flagsOf(flags, full), mode);
      },
      rename: async (from: unknown, to: unknown) => {
        const source = this.checkParents(from);
        const target = this.checkParents(to);
        this.forget(source);
        return call('rename')(source, target);
      },
      unlink: async (path: unknown) => call('unlink')(this.checkParents(path)),
      unlinkOnPool: async (path: string) => (base.unlinkOnPool ?? base.unlink)(this.checkParents(path)),
      rm: async (path: unknown, options?: unknown) => {
        const full = this.checkParents(path);
        this.forget(full);
        return call('rm')(full, options);
      },
      link: async (existing: unknown, created: unknown) => {
        const source = this.checkParents(existing);
        const target = this.checkParents(created);
        this.checkEntry(source, 'file');
        return call('link')(source, target);
      },
      writeFile: async (path: unknown, data: unknown, options?: unknown) => {
        const full = this.checkParents(path);
        if (!this.isInside(full)) return call('writeFile')(full, data, options);
        const rest = typeof options === 'string' ? { encoding: options } : ((options as object | undefined) ?? {});
        const flag = this.flagsOf((rest as { flag?: unknown }).flag ?? 'w', full);
        try {
          return await call('writeFile')(full, data, { ...rest, flag });
        } catch (error) {
          if (isErrno(error, 'ELOOP')) throw unsafeEntryError(full, 'link');
          throw error;
        }
      },
      readFileSync: (path: string) => {
        const full = this.checkParents(path);
        if (this.isInside(full) && this.checkEntry(full, 'file') === undefined) {
          const missing = new Error(`ENOENT: no such file, open '${full}'`) as NodeJS.ErrnoException;
          missing.code = 'ENOENT';
          throw missing;
        }
        return base.readFileSync(full);
      },
      readdirSync: (path: string) => {
        const full = this.checkParents(path);
        this.checkDir(full);
        return base.readdirSync(full);
      },
      lstatSync: (path: string) => base.lstatSync(this.checkParents(path)),
    };
    return guarded as unknown as StoreFs;
  }
}
