/**
 * Content-addressed data objects: `objects/<2 hex>/<62 hex>`, named by the
 * sha256 of the serialised (uncompressed) bytes. A stored object is either
 * those bytes or a plain gzip stream of them; readers tell the two apart by
 * the gzip magic number (serialised JSON never starts with 0x1f). Objects are
 * immutable: writing content that exists already costs one stat. An object
 * may also live in a pack (packs.ts, pack-writer.ts): every read and every
 * reuse looks there when there is no loose file, and verifies alike.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { IntegrityError } from '../errors.js';
import { syncDirs, syncFiles, writeFileAtomicFlushing } from './atomic-write.js';
import { withDescriptor } from './descriptor-pool.js';
import { isErrno, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import { packDirOf, PackSet, readPackedBytes, type PackedObject } from './packs.js';

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
  /**
   * Set when this call wrote the object's loose file and no file of it
   * existed, loose or packed: statistics count it without looking it up
   * (see `n` of the change log's declare lines in docs/FORMAT.md).
   */
  isNewLoose?: true;
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
  /** The packs of the store, as this process has listed them. */
  readonly packs: PackSet;
  // Packs whose files this process has fsynced, and those whose directory entry too.
  private readonly flushedPacks = new Set<string>();
  private readonly durablePacks = new Set<string>();
  // Objects of packs this process is still writing: only its own reads (a transaction's) may see them.
  private readonly unpublished = new Map<string, PackedObject>();

  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
  ) {
    this.packs = new PackSet(fs, layout);
  }

  pathOf(checksum: string): string {
    return objectPath(this.layout.objects, checksum);
  }

  /**
   * Stores serialised bytes once; gzips them first when `compress` is set.
   * The file is renamed into place at once and its fsync started in the
   * background, with its directory's; the caller must call `syncObjects` (a
   * commit does, for all its objects at once) before publishing anything
   * that names it.
   */
  async write(serialized: Buffer, compress: boolean, checksum = sha256Hex(serialized)): Promise<StoredObject> {
    // The one stat of the loose file decides: reuse it, or look in the packs,
    // or write it (over a damaged one too).
    const path = this.pathOf(checksum);
    const existing = await this.statIfExists(path);
    const found = await this.reusableAt(path, checksum, existing);
    if (found !== null) return found;
    const written = await this.writeNewLoose(serialized, compress, checksum);
    return existing === null ? { ...written, isNewLoose: true } : written;
  }

  /** `write` without looking for the object in packs first (fsck salvaging a damaged pack). */
  async writeLoose(serialized: Buffer, compress: boolean, checksum = sha256Hex(serialized)): Promise<StoredObject> {
    const path = this.pathOf(checksum);
    const existing = await this.statIfExists(path);
    const reused = existing === null ? null : await this.reuseExisting(path, checksum);
    if (existing !== null && reused !== null) return { checksum, compressed: reused, storedSize: existing, dirsToSync: [] };
    return this.writeNewLoose(serialized, compress, checksum);
  }

  /** Writes an object's loose file, over any damaged one, and starts its flush (see `write`). */
  private async writeNewLoose(serialized: Buffer, compress: boolean, checksum: string): Promise<StoredObject> {
    const path = this.pathOf(checksum);
    const bytes = compress ? gzipSync(serialized) : serialized;
    const dir = join(this.layout.objects, checksum.slice(0, 2));
    // The file's fsync starts as soon as it is renamed into place, on the
    // descriptor that wrote it, and overlaps the work until the commit.
    const { placed, flushed } = await writeFileAtomicFlushing(this.fs, this.layout.tmp, path, bytes, { createDir: true });
    const { createdDir } = placed;
    // A new fan-out directory is itself an entry of objects/ that must be made durable.
    if (createdDir) this.createdFanouts.add(dir);
    const dirsToSync = createdDir ? [dir, this.layout.objects] : [dir];
    // The commit waits for the flush (or redoes what failed). The file and
    // the directories its rename changed are fsynced side by side, not one
    // after the other: nothing names the object until the commit point,
    // which waits for both, and a name made durable before its data is the
    // state a machine crash can leave anyway (any other fsync may commit
    // the rename first), which `reuseExisting` and every read verify.
    const flush = Promise.allSettled([flushed, syncDirs(this.fs, dirsToSync)]).then(([file, entries]) => {
      if (file.status === 'rejected') return false;
      remember(this.flushed, checksum);
      if (entries.status === 'fulfilled') {
        if (createdDir) this.createdFanouts.delete(dir);
        // Both fsyncs ran after the rename (and the mkdir): the object is
        // durable whole, unless its fan-out directory was created by another
        // object whose fsync of objects/ has not succeeded yet; then the
        // commit fsyncs objects/ (see `syncObjectFiles`).
        if (!this.createdFanouts.has(dir)) remember(this.durable, checksum);
      }
      return true;
    });
    this.flushing.set(checksum, flush);
    void flush.finally(() => this.flushing.delete(checksum));
    return { checksum, compressed: compress, storedSize: bytes.length, dirsToSync };
  }

  /**
   * An object already stored, loose or packed, verified and with its mtime
   * (or its pack's) refreshed for garbage collection; null when there is
   * none to reuse. Pack writers call it too, so no object is stored twice.
   */
  async findReusable(checksum: string): Promise<StoredObject | null> {
    const path = this.pathOf(checksum);
    return this.reusableAt(path, checksum, await this.statIfExists(path));
  }

  /** `findReusable` once the loose file's size (`existing`, null when missing) is known. */
  private async reusableAt(path: string, checksum: string, existing: number | null): Promise<StoredObject | null> {
    const reused = existing === null ? null : await this.reuseExisting(path, checksum);
    if (existing !== null && reused !== null) return { checksum, compressed: reused, storedSize: existing, dirsToSync: [] };
    return existing === null ? this.reusePacked(checksum) : null;
  }

  /** Called by a pack writer for each object it appends, and again (`isGone`) once its pack is published or dropped. */
  trackUnpublished(checksum: string, entry: PackedObject, isGone = false): void {
    // Another open pack of this process may hold the same object: only the writer's own entry goes.
    if (!isGone) this.unpublished.set(checksum, entry);
    else if (this.unpublished.get(checksum)?.pack === entry.pack) this.unpublished.delete(checksum);
  }

  /** Called by a pack writer once its files are fsynced (`durable`: and the rename into `objects/pack/`). */
  markPackFlushed(pack: string, durable: boolean): void {
    remember(this.flushedPacks, pack);
    if (durable) remember(this.durablePacks, pack);
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
    const where = await Promise.all(unique.map((checksum) => this.locateForCommit(checksum)));
    const loose = unique.filter((_, i) => where[i] === 'loose');
    const waited = loose.filter((checksum) => !this.durable.has(checksum));
    const flushes = await Promise.all(waited.map((checksum) => this.flushed.has(checksum) || (this.flushing.get(checksum) ?? false)));
    const isFlushed = new Map(waited.map((checksum, i) => [checksum, flushes[i]!]));
    // A flush started at staging may have made the object durable with its directory entries meanwhile.
    const pending = waited.filter((checksum) => !this.durable.has(checksum));
    const flushed = pending.map((checksum) => isFlushed.get(checksum)!);
    // A pack found here but not written by this process was fsynced by its
    // writer before its rename; its directory entry may not be durable yet.
    const packs = [...new Set(where.filter((w): w is PackedObject => w !== 'loose').map((w) => w.pack))].filter((pack) => !this.durablePacks.has(pack));
    const unflushedPacks = packs.filter((pack) => !this.flushedPacks.has(pack));
    await syncFiles(this.fs, [
      ...pending.filter((_, i) => !flushed[i]).map((checksum) => this.pathOf(checksum)),
      ...unflushedPacks.flatMap((pack) => [pack, pack.replace(/\.pack$/, '.idx')]),
    ]);
    const fanouts = [...new Set(pending.map((checksum) => join(this.layout.objects, checksum.slice(0, 2))))];
    const created = fanouts.filter((dir) => this.createdFanouts.has(dir));
    const dirs = [...fanouts, ...(packs.length > 0 ? [packDirOf(this.layout)] : [])];
    return {
      dirs: created.length > 0 ? [...dirs, this.layout.objects] : dirs,
      markDurable: () => {
        pending.forEach((checksum) => remember(this.durable, checksum));
        created.forEach((dir) => this.createdFanouts.delete(dir));
        packs.forEach((pack) => remember(this.durablePacks, pack));
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
      if (isErrno(error, 'ENOENT')) return this.readPacked(checksum, key);
      throw error;
    }
    return decodeObject(stored, checksum, path, key);
  }

  /**
   * The stored bytes of an object (loose or packed) and the file they came
   * from, unverified: for fsck, which verifies and reports them itself.
   */
  async readStored(checksum: string): Promise<{ stored: Buffer; path: string } | null> {
    const path = this.pathOf(checksum);
    const loose = await readFileIfExists(this.fs, path);
    if (loose !== null) return { stored: loose, path };
    return this.readStoredPacked(checksum);
  }

  /**
   * The stored bytes of a packed object and its pack, unverified; null when
   * no pack holds it. The first look may place it through the multi-pack
   * index before the packs were ever listed (`PackSet.locateToRead`), so a
   * pack gone since is given one more look than a listing alone needs.
   */
  private async readStoredPacked(checksum: string): Promise<{ stored: Buffer; path: string } | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const packed = this.unpublished.get(checksum) ?? (await (attempt === 0 ? this.packs.locateToRead(checksum) : this.packs.locate(checksum)));
      if (packed === null) return null;
      const stored = await readPackedBytes(this.fs, packed);
      if (stored !== null) return { stored, path: packed.pack };
      // The pack went since it was listed (collected or repacked): list again.
      await this.packs.refresh();
    }
    return null;
  }

  /** The file holding an object (its loose file or its pack) with its size and mtime; null when there is none. */
  async locate(checksum: string): Promise<{ path: string; size: number; mtimeMs: number; packed: boolean } | null> {
    const path = this.pathOf(checksum);
    const loose = await this.fs.stat(path).catch(() => null);
    if (loose !== null) return { path, size: loose.size, mtimeMs: loose.mtimeMs, packed: false };
    const packed = await this.packs.locate(checksum);
    const stat = packed === null ? null : await this.fs.stat(packed.pack).catch(() => null);
    return stat === null ? null : { path: packed!.pack, size: packed!.length, mtimeMs: stat.mtimeMs, packed: true };
  }

  private async readPacked(checksum: string, key: string | undefined): Promise<Buffer> {
    // Its loose file was just found missing; it is looked for again only when no pack holds it either.
    const found = (await this.readStoredPacked(checksum)) ?? (await this.readStored(checksum));
    if (found !== null) return decodeObject(found.stored, checksum, found.path, key);
    const path = this.pathOf(checksum);
    // An object a damaged index may list is not called merely missing.
    const damaged = this.packs.damagedIndexes().map((d) => `; pack index ${d.path} ${d.reason}`).join('');
    throw new IntegrityError(`object ${checksum} is missing${forKey(key)} (${path})${damaged}`, { path: this.packs.damagedIndexes()[0]?.path ?? path, checksum, key });
  }

  /** Where a commit's object is, loose or packed; throws when it is in neither. */
  private async locateForCommit(checksum: string): Promise<'loose' | PackedObject> {
    const known = await this.packs.locateKnown(checksum);
    if (known !== null && (await this.statIfExists(known.pack)) !== null) return known;
    // Its pack went since it was listed (repacked, say): list the packs again.
    if (known !== null) await this.packs.refresh();
    const path = this.pathOf(checksum);
    if ((await this.statIfExists(path)) !== null) return 'loose';
    const packed = await this.packs.locate(checksum);
    if (packed !== null && (await this.statIfExists(packed.pack)) !== null) return packed;
    throw new IntegrityError(`object ${checksum} was removed (by garbage collection?) before its commit; save again (${path})`, { path, checksum });
  }

  /** A packed object to reuse: verified, and its pack's mtime refreshed (see `reuseExisting`). */
  private async reusePacked(checksum: string): Promise<StoredObject | null> {
    const packed = await this.packs.locateForReuse(checksum);
    if (packed === null) return null;
    const stored = await readPackedBytes(this.fs, packed);
    if (stored === null) return null;
    try {
      decodeObject(stored, checksum, packed.pack);
    } catch (error) {
      if (error instanceof IntegrityError) return null;
      throw error;
    }
    if (!(await this.touch(packed.pack))) return null;
    return { checksum, compressed: isGzip(stored), storedSize: packed.length, dirsToSync: [] };
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
    if (!(await this.touch(path))) return null;
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

  /** Refreshes a file's mtime; false when it is gone. */
  private async touch(path: string): Promise<boolean> {
    return withDescriptor(async () => {
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
