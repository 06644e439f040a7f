/**
 * Content-addressed data objects: `objects/<2 hex>/<62 hex>`, named by the
 * sha256 of the serialised (uncompressed) bytes. A stored object is either
 * those bytes or a plain gzip stream of them; readers tell the two apart by
 * the gzip magic number (serialised JSON never starts with 0x1f). Objects are
 * immutable: writing content that exists already costs one stat.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { IntegrityError } from '../errors.js';
import { syncDirs, syncFiles, writeFileAtomic } from './atomic-write.js';
import { withDescriptor } from './descriptor-pool.js';
import { isErrno, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';

export interface StoredObject {
  checksum: string;
  compressed: boolean;
  /** Bytes on disk. */
  storedSize: number;
  /**
   * The directories a new object's rename changed: its fan-out directory, and
   * the objects directory when that fan-out was created. `syncObjects`
   * fsyncs them. Empty when a verified existing object was reused.
   */
  dirsToSync: string[];
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function objectPath(objectsDir: string, checksum: string): string {
  return join(objectsDir, checksum.slice(0, 2), checksum.slice(2));
}

export class ObjectStore {
  // fsyncs started by deferred writes, while in flight: true once the file is flushed.
  private readonly flushing = new Map<string, Promise<boolean>>();
  // Objects whose file (not necessarily its directory entry) this process has fsynced.
  private readonly flushed = new Set<string>();
  // Fan-out directories this process created whose entry in objects/ is not yet fsynced.
  private readonly createdFanouts = new Set<string>();
  // Objects this process has fsynced (with their directory entry); they stay durable.
  private readonly durable = new Set<string>();

  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
  ) {}

  pathOf(checksum: string): string {
    return objectPath(this.layout.objects, checksum);
  }

  /**
   * Stores serialised bytes once; gzips them first when `compress` is set.
   * The file is renamed into place at once and its fsync started in the
   * background; the caller must call `syncObjects` (a commit does, for all
   * its objects at once) before publishing anything that names it.
   */
  async write(serialized: Buffer, compress: boolean, checksum = sha256Hex(serialized)): Promise<StoredObject> {
    const path = this.pathOf(checksum);
    const existing = await this.statIfExists(path);
    const reused = existing === null ? null : await this.reuseExisting(path, checksum);
    if (existing !== null && reused !== null) {
      return { checksum, compressed: reused, storedSize: existing, dirsToSync: [] };
    }
    const bytes = compress ? gzipSync(serialized) : serialized;
    const dir = join(this.layout.objects, checksum.slice(0, 2));
    const { createdDir } = await writeFileAtomic(this.fs, this.layout.tmp, path, bytes, { sync: false, createDir: true });
    // A new fan-out directory is itself an entry of objects/ that must be made durable.
    if (createdDir) this.createdFanouts.add(dir);
    // The flush starts now, on the thread pool, and overlaps the work until
    // the commit, which waits for it (or redoes it, if it failed).
    const flush = syncFiles(this.fs, [path]).then(
      () => {
        remember(this.flushed, checksum);
        return true;
      },
      () => false,
    );
    this.flushing.set(checksum, flush);
    void flush.finally(() => this.flushing.delete(checksum));
    return { checksum, compressed: compress, storedSize: bytes.length, dirsToSync: createdDir ? [dir, this.layout.objects] : [dir] };
  }

  /**
   * Makes objects durable before a commit names them: fsyncs every object
   * file and fan-out directory not already made durable by this process.
   * Objects found already present are synced too, since another process may
   * have renamed them into place without an fsync yet.
   */
  async syncObjects(checksums: Iterable<string>): Promise<void> {
    const { dirs, markDurable } = await this.syncObjectFiles(checksums);
    await syncDirs(this.fs, dirs);
    markDurable();
  }

  /**
   * The first half of `syncObjects`, for callers that fsync the returned
   * directories together with their own and then call `markDurable`.
   */
  async syncObjectFiles(checksums: Iterable<string>): Promise<{ dirs: string[]; markDurable: () => void }> {
    const unique = [...new Set(checksums)];
    // Callers hold the write lock, so no GC runs now; but one may have swept
    // an object between staging (outside the lock) and here. The caches
    // below would skip its fsync, so check it is still there: a commit must
    // fail rather than name data that is gone.
    await Promise.all(unique.map((checksum) => this.assertPresent(checksum)));
    const pending = unique.filter((checksum) => !this.durable.has(checksum));
    const flushed = await Promise.all(pending.map((checksum) => this.flushed.has(checksum) || (this.flushing.get(checksum) ?? false)));
    await syncFiles(this.fs, pending.filter((_, i) => !flushed[i]).map((checksum) => this.pathOf(checksum)));
    const fanouts = [...new Set(pending.map((checksum) => join(this.layout.objects, checksum.slice(0, 2))))];
    const created = fanouts.filter((dir) => this.createdFanouts.has(dir));
    return {
      dirs: created.length > 0 ? [...fanouts, this.layout.objects] : fanouts,
      markDurable: () => {
        pending.forEach((checksum) => remember(this.durable, checksum));
        created.forEach((dir) => this.createdFanouts.delete(dir));
      },
    };
  }

  /**
   * Returns the serialised bytes of an object after checking them against
   * `checksum`. Missing, truncated or altered objects throw `IntegrityError`.
   */
  async read(checksum: string, key?: string): Promise<Buffer> {
    const path = this.pathOf(checksum);
    let stored: Buffer;
    try {
      stored = await this.fs.readFile(path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) {
        throw new IntegrityError(`object ${checksum} is missing${forKey(key)} (${path})`, { path, checksum, key });
      }
      throw error;
    }
    return decodeObject(stored, checksum, path, key);
  }

  private async assertPresent(checksum: string): Promise<void> {
    const path = this.pathOf(checksum);
    if ((await this.statIfExists(path)) === null) {
      throw new IntegrityError(`object ${checksum} was removed (by garbage collection?) before its commit; save again (${path})`, { path, checksum });
    }
  }

  private async statIfExists(path: string): Promise<number | null> {
    try {
      return (await this.fs.stat(path)).size;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
  }

  /**
   * Whether an existing object is gzipped; null when it vanished meanwhile.
   * Its mtime is refreshed: garbage collection sweeps only unreferenced
   * objects untouched for its grace period, so an old object about to be
   * named again by this save is not swept before the save is published.
   */
  private async reuseExisting(path: string, checksum: string): Promise<boolean | null> {
    const touched = await withDescriptor(async () => {
      let handle;
      try {
        handle = await this.fs.open(path, 'r');
      } catch (error) {
        if (isErrno(error, 'ENOENT')) return false;
        throw error;
      }
      try {
        const now = new Date();
        await handle.utimes(now, now);
      } finally {
        await handle.close();
      }
      return true;
    });
    if (!touched) return null;
    // A crash of the machine can leave a file under a valid name that was
    // renamed into place but never flushed; only a verified object is reused,
    // anything else is written again over it.
    const stored = await readFileIfExists(this.fs, path);
    if (stored === null) return null;
    try {
      decodeObject(stored, checksum, path);
    } catch (error) {
      if (error instanceof IntegrityError) return null;
      throw error;
    }
    return isGzip(stored);
  }
}

/**
 * Adds to a set of checksums known to be flushed, which only saves fsyncs:
 * past a bound it is simply forgotten, so a long-running process stays small.
 */
function remember(known: Set<string>, checksum: string): void {
  if (known.size >= 100_000) known.clear();
  known.add(checksum);
}

/** Turns stored object bytes into verified serialised bytes. Pure: shared by reads and fsck. */
export function decodeObject(stored: Buffer, checksum: string, path: string, key?: string): Buffer {
  let serialized: Buffer;
  if (isGzip(stored)) {
    try {
      serialized = gunzipSync(stored);
    } catch (error) {
      throw new IntegrityError(
        `object ${checksum}${forKey(key)} is not a valid gzip stream (${(error as Error).message}): ${path}`,
        { path, checksum, key },
      );
    }
  } else {
    serialized = stored;
  }
  const actual = sha256Hex(serialized);
  if (actual !== checksum) {
    throw new IntegrityError(`object ${checksum}${forKey(key)} is corrupt: its content hashes to ${actual} (${path})`, {
      path,
      checksum,
      key,
    });
  }
  return serialized;
}

function forKey(key: string | undefined): string {
  return key === undefined ? '' : ` of ${JSON.stringify(key)}`;
}
