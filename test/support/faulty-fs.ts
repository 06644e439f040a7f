/**
 * A `StoreFs` that fails the Nth write, fsync or rename with a chosen errno,
 * to prove that every step of a save, commit, export or GC can fail without
 * losing acknowledged data or leaving a store that does not open.
 */
import * as nodeSync from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { StoreFs } from '../../src/store/fs.js';

export type FaultKind = 'write' | 'fsync' | 'rename';

export class FaultyFs {
  private counts: Record<FaultKind, number> = { write: 0, fsync: 0, rename: 0 };
  /** Which operation fails: the `at`-th (1-based) of `kind`; null: none. */
  fault: { kind: FaultKind; at: number; code: 'ENOSPC' | 'EIO' } | null = null;
  injected = 0;

  reset(fault: FaultyFs['fault']): void {
    this.counts = { write: 0, fsync: 0, rename: 0 };
    this.fault = fault;
    this.injected = 0;
  }

  count(kind: FaultKind): number {
    return this.counts[kind];
  }

  private check(kind: FaultKind): void {
    this.counts[kind]++;
    if (this.fault && this.fault.kind === kind && this.fault.at === this.counts[kind]) {
      this.injected++;
      const error = new Error(`${this.fault.code}: injected ${kind} fault`) as NodeJS.ErrnoException;
      error.code = this.fault.code;
      throw error;
    }
  }

  readonly fs: StoreFs = {
    readFile: fsp.readFile,
    readdir: fsp.readdir,
    stat: fsp.stat,
    lstat: fsp.lstat,
    mkdir: fsp.mkdir,
    rm: fsp.rm,
    unlink: fsp.unlink,
    link: fsp.link,
    readFileSync: (path: string) => nodeSync.readFileSync(path),
    readdirSync: (path: string) => nodeSync.readdirSync(path),
    lstatSync: (path: string) => nodeSync.lstatSync(path, { throwIfNoEntry: false }),
    writeFile: (async (...args: Parameters<typeof fsp.writeFile>) => {
      this.check('write');
      return fsp.writeFile(...args);
    }) as typeof fsp.writeFile,
    rename: (async (from: string, to: string) => {
      this.check('rename');
      return fsp.rename(from, to);
    }) as typeof fsp.rename,
    open: (async (...args: Parameters<typeof fsp.open>) => {
      const handle = await fsp.open(...args);
      const faulty = this;
      return new Proxy(handle, {
        get(target, prop, receiver) {
          if (prop === 'writeFile' || prop === 'write') {
            return async (...a: unknown[]) => {
              faulty.check('write');
              return (target[prop] as (...x: unknown[]) => unknown).apply(target, a);
            };
          }
          if (prop === 'sync' || prop === 'datasync') {
            return async () => {
              faulty.check('fsync');
              return target.sync();
            };
          }
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    }) as typeof fsp.open,
  };
}
