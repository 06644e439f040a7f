/**
 * Finding and reading objects in packs (`objects/pack/pack-<sha256>.pack`
 * with its `.idx`; byte layout in src/model/pack-index.ts). An index is
 * trusted only once it decoded whole (its trailing checksum, its order, its
 * bounds against the pack's size) and names its own pack; an index that
 * does not is remembered as damaged, and a lookup that finds its object
 * nowhere else says so instead of calling the object missing. Most lookups
 * go through the multi-pack index instead (`PackSet`, multi-pack-index.ts),
 * a cache built from indexes that did check out.
 *
 * A pack is visible through its index: the writer renames the pack into
 * place before its index, and garbage collection removes the index before
 * the pack, so an index a reader finds always has its pack, unless the pack
 * went since the index was read (then the listing is read again).
 */
import { join } from 'node:path';
import { IntegrityError } from '../errors.js';
import { bucketOf, extendMultiPackIndex, lookupMultiPackIndex, MULTI_INDEX_BUCKETS, type MultiPackIndex } from '../model/multi-pack-index.js';
import { decodePackIndex, PACK_NAME, type PackEntry } from '../model/pack-index.js';
import { withDescriptor } from './descriptor-pool.js';
import { isErrno, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';
import { FILE_CONCURRENCY, mapLimit } from './write-pool.js';
import type { StoreLayout } from './layout.js';
import { readMultiPackIndexBucket, readMultiPackIndexHead, readWholeMultiPackIndex, removeMultiPackIndex, writeMultiPackIndex } from './multi-pack-index.js';

export interface PackedObject extends PackEntry {
  /** Path of the `.pack` file. */
  pack: string;
}

export function packDirOf(layout: StoreLayout): string {
  return join(layout.objects, 'pack');
}

export function packPathOf(layout: StoreLayout, packHash: string, ext: 'pack' | 'idx'): string {
  return join(packDirOf(layout), `pack-${packHash}.${ext}`);
}

/** Reads a pack's index and checks it against its pack; answers the entries or why they cannot be trusted. */
export async function readPackIndex(fs: StoreFs, layout: StoreLayout, packHash: string): Promise<PackEntry[] | string | null> {
  const bytes = await readFileIfExists(fs, packPathOf(layout, packHash, 'idx'));
  if (bytes === null) return null;
  let packSize: number;
  try {
    packSize = (await fs.stat(packPathOf(layout, packHash, 'pack'))).size;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return 'has no pack file';
    throw error;
  }
  const decoded = decodePackIndex(bytes, packSize);
  if (typeof decoded === 'string') return decoded;
  if (decoded.packHash !== packHash) return `belongs to pack ${decoded.packHash}`;
  return decoded.entries;
}

/** The stored bytes of one packed object, unverified (callers decode and verify them); null when the pack is gone. */
export async function readPackedBytes(fs: StoreFs, entry: PackedObject): Promise<Buffer | null> {
  return withDescriptor(async () => {
    let handle;
    try {
      handle = await fs.open(entry.pack, 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
    try {
      const bytes = Buffer.alloc(entry.length);
      const { bytesRead } = await handle.read(bytes, 0, entry.length, entry.offset);
      if (bytesRead !== entry.length) {
        throw new IntegrityError(`pack ${entry.pack} is truncated: object ${entry.checksum} ends past its end`, { path: entry.pack, checksum: entry.checksum });
      }
      return bytes;
    } finally {
      await handle.close();
    }
  });
}

/**
 * Past this many packs that the multi-pack index does not name, or packs
 * that hold this many objects between them, a listing writes it again: a
 * writer committing one pack per transaction rewrites it once every so many
 * commits (or after each large one), and a fresh process reads at most
 * this many pack indexes beside it, of fewer objects (the packs published
 * since the last rewrite). Without the bound on objects, the seven packs of
 * 10,000 saves a million-version store could leave outside it cost every
 * fresh process 150 ms of reading them (`npm run bench -- scale`).
 */
export const MULTI_INDEX_REBUILD_PACKS = 8;
export const MULTI_INDEX_REBUILD_OBJECTS = 4096;

/**
 * The packs of one store as this process last listed them. Objects are found
 * through the multi-pack index (`local/multi-pack-index`) for the packs it
 * names, and through each pack's own index for the others; once the packs
 * are listed, the multi-pack index is used only while every pack it names
 * is present, so an object it places is where it says (any pack it names
 * holds a copy), and it is written again by any listing that finds it
 * missing, damaged or naming a pack that went, or finds
 * `MULTI_INDEX_REBUILD_PACKS` packs it does not name. Before the first
 * listing, a read may use it alone (see `locateToRead`).
 */
export class PackSet {
  // Objects of the packs read one by one (or published by this process).
  private readonly byChecksum = new Map<string, PackedObject & { packHash: string }>();
  private readonly readOneByOne = new Set<string>();
  // The multi-pack index in use, and the packs it names.
  private multi: MultiPackIndex | null = null;
  private multiPacks = new Set<string>();
  // The head digest of a multi-pack index whose entries did not check out: not used again.
  private rejectedMulti: string | null = null;
  private rejections = 0;
  // The head digest of the index whose packs' own indexes confirmed a miss (see `locateInNamedPacks`).
  private confirmedMisses: string | null = null;
  private readonly damaged = new Map<string, string>();
  private refreshing: Promise<void> | null = null;
  // mtime of `objects/pack/` when `locateForReuse` last listed it.
  private listedAtMtime = -1;
  // Whether `objects/pack/` was listed yet (see `locateToRead`).
  private hasListed = false;

  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
  ) {}

  /**
   * Where `checksum` is packed, listing `objects/pack/` again when this
   * process does not know it yet. A miss through the multi-pack index is
   * confirmed by the own indexes of the packs it names before it is
   * answered, so no index, stale or faulty, ever makes a packed object
   * missing.
   */
  async locate(checksum: string): Promise<PackedObject | null> {
    // A multi-pack index a read took before any listing (`locateToRead`) is trusted here only once a listing has checked its packs.
    if (this.hasListed || this.multi === null) {
      const known = await this.locateKnown(checksum);
      if (known !== null) return known;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const rejections = this.rejections;
      await this.refresh();
      const found = await this.locateKnown(checksum);
      if (found !== null) return found;
      // A bucket that failed its digest dropped the index during the listing or
      // the lookup (another process rewrote it meanwhile), and the packs it
      // named may be known neither way: list again, with the new one.
      if (this.rejections === rejections) break;
    }
    return this.locateInNamedPacks(checksum);
  }

  /**
   * `locate` for a read of the object's bytes: before this process first
   * lists `objects/pack/`, it takes the multi-pack index on disk without
   * checking that every pack it names is still there, so a first read (a
   * CLI start) finds a packed object from the index's head, a table and one bucket,
   * without listing the packs and reading the own indexes of those
   * published since the index was written. Only for a caller that reads
   * the bytes and, when the pack fails to open, lists the packs and looks
   * again (`ObjectStore.readStoredPacked`): a pack's name is its hash and
   * every read verifies the object's checksum, so a pack that went since
   * (collected or repacked) costs one more look, never a wrong or missing
   * object. Callers that only stat the pack use `locate`. A miss lists the
   * packs at once; the first listing then checks the index's packs as it
   * would have.
   */
  async locateToRead(checksum: string): Promise<PackedObject | null> {
    const known = await this.locateKnown(checksum);
    if (known !== null) return known;
    if (!this.hasListed && (await this.adoptUnlistedMulti())) {
      const found = await this.locateKnown(checksum);
      if (found !== null) return found;
    }
    return this.locate(checksum);
  }

  /** Takes the multi-pack index on disk, unchecked against the packs present (see `locateToRead`); false when there is none to take. */
  private async adoptUnlistedMulti(): Promise<boolean> {
    if (this.multi !== null) return false;
    const found = await readMultiPackIndexHead(this.fs, this.layout);
    if (this.hasListed || this.multi !== null || found === null || typeof found === 'string' || found.id === this.rejectedMulti) return false;
    this.useMulti(found);
    return true;
  }

  /** `checksum` in the own indexes of the packs the multi-pack index in use names, once per index: null when none holds it. */
  private async locateInNamedPacks(checksum: string): Promise<PackedObject | null> {
    const multi = this.multi;
    if (multi === null || this.confirmedMisses === multi.id) return null;
    const read = await mapLimit(multi.packs, FILE_CONCURRENCY, (hash) => readPackIndex(this.fs, this.layout, hash).catch(() => null));
    for (const [i, entries] of read.entries()) {
      const entry = entries === null || typeof entries === 'string' ? undefined : entries.find((e) => e.checksum === checksum);
      if (entry === undefined) continue;
      // The index left out an object its pack holds: it is not used again, and the next listing writes a new one.
      if (this.multi === multi) this.rejectMulti();
      return { ...entry, pack: packPathOf(this.layout, multi.packs[i]!, 'pack') };
    }
    // Every named pack agreed: later misses through this index are answered at once.
    this.confirmedMisses = multi.id;
    return null;
  }

  /**
   * `locate` for a writer looking for an object to reuse: lists the packs
   * again only when `objects/pack/` changed since the last listing (one
   * stat instead of a listing per save). A pack missed because the time did
   * not move costs one duplicate object, never a wrong read; readers use
   * `locate`, which always lists again on a miss.
   */
  async locateForReuse(checksum: string): Promise<PackedObject | null> {
    const known = await this.locateKnown(checksum);
    if (known !== null) return known;
    const stats = await this.fs.stat(packDirOf(this.layout)).catch(() => null);
    const mtimeMs = stats === null ? -1 : stats.mtimeMs;
    if (mtimeMs === -1 || mtimeMs === this.listedAtMtime) return null;
    await this.refresh();
    this.listedAtMtime = mtimeMs;
    return this.locateKnown(checksum);
  }

  /** What is known without listing the packs: those read one by one, and the multi-pack index (one bucket read the first time it is needed, after its slot's table). */
  async locateKnown(checksum: string): Promise<PackedObject | null> {
    const own = this.byChecksum.get(checksum);
    if (own !== undefined) return own;
    const multi = this.multi;
    if (multi === null) return null;
    const b = bucketOf(checksum);
    if (b === -1) return null;
    if (!multi.buckets.has(b)) {
      const read = await readMultiPackIndexBucket(this.fs, this.layout, multi, b);
      if (typeof read === 'string') {
        // Replaced or damaged since its head was read: the next listing reads it again, or the packs' indexes one by one.
        if (this.multi === multi) this.rejectMulti();
        return null;
      }
    }
    const found = lookupMultiPackIndex(multi, checksum);
    return found === null ? null : { checksum, offset: found.offset, length: found.length, pack: packPathOf(this.layout, found.packHash, 'pack') };
  }

  /** Adds a pack this process has just published, without reading its index back. */
  add(packHash: string, entries: readonly PackEntry[]): void {
    this.readOneByOne.add(packHash);
    const pack = packPathOf(this.layout, packHash, 'pack');
    for (const entry of entries) this.byChecksum.set(entry.checksum, { ...entry, pack, packHash });
  }

  /** Damaged indexes found so far: path and why, for the message of an object found nowhere. */
  damagedIndexes(): Array<{ path: string; reason: string }> {
    return [...this.damaged].map(([hash, reason]) => ({ path: packPathOf(this.layout, hash, 'idx'), reason }));
  }

  /** Lists `objects/pack/` again: loads new indexes, forgets removed ones, and rewrites the multi-pack index when it lags. */
  refresh(): Promise<void> {
    this.refreshing ??= this.listAgain().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async listAgain(): Promise<void> {
    this.hasListed = true;
    const present = new Set<string>();
    for (const name of await readdirIfExists(this.fs, packDirOf(this.layout))) {
      const match = PACK_NAME.exec(name);
      if (match !== null && match[2] === 'idx') present.add(match[1]!);
    }
    // A pack that went (collected, or repacked into another) may have shared
    // objects with packs still here: start over rather than untangle them.
    if ([...this.readOneByOne, ...this.multiPacks].some((hash) => !present.has(hash))) {
      this.readOneByOne.clear();
      this.byChecksum.clear();
      this.useMulti(null);
    }
    for (const hash of this.damaged.keys()) if (!present.has(hash)) this.damaged.delete(hash);
    const onDisk = this.multi === null ? await this.loadMulti(present) : 'used';
    const unread = [...present].filter((hash) => !this.readOneByOne.has(hash) && !this.multiPacks.has(hash));
    // Read side by side: a store whose transactions each left a pack has many small indexes.
    const read = await mapLimit(unread, FILE_CONCURRENCY, (hash) =>
      // An index that cannot be read (a link a clone brought, a directory) is damaged like one that does not verify.
      readPackIndex(this.fs, this.layout, hash).catch((error: unknown) => `cannot be read: ${(error as Error).message}`),
    );
    unread.forEach((hash, i) => {
      const entries = read[i]!;
      if (entries === null) return;
      if (typeof entries === 'string') this.damaged.set(hash, entries);
      else {
        this.damaged.delete(hash);
        this.add(hash, entries);
      }
    });
    const outside = [...this.readOneByOne].filter((hash) => present.has(hash));
    // byChecksum holds the entries of the packs read one by one, those outside the multi-pack index.
    const isOutsideLarge = outside.length >= MULTI_INDEX_REBUILD_PACKS || (outside.length > 0 && this.byChecksum.size >= MULTI_INDEX_REBUILD_OBJECTS);
    if (isOutsideLarge || (onDisk !== 'used' && outside.length > 0)) await this.rewriteMulti(present);
    else if (onDisk === 'unusable' && present.size === 0) await removeMultiPackIndex(this.fs, this.layout);
  }

  /** Takes the multi-pack index on disk when it checks out and names only packs listed now. */
  private async loadMulti(present: ReadonlySet<string>): Promise<'used' | 'unusable' | 'missing'> {
    const found = await readMultiPackIndexHead(this.fs, this.layout);
    if (found === null) return 'missing';
    if (typeof found === 'string' || found.id === this.rejectedMulti) return 'unusable';
    if (found.packs.some((hash) => !present.has(hash))) return 'unusable';
    this.useMulti(found);
    return 'used';
  }

  /** The multi-pack index in use extended with every listed pack read one by one: used at once, and written for other processes. */
  private async rewriteMulti(present: ReadonlySet<string>): Promise<void> {
    const base = await this.wholeMulti();
    if (base === undefined) return;
    const added = new Map<string, PackEntry[]>();
    for (const hash of this.readOneByOne) if (present.has(hash)) added.set(hash, []);
    for (const { checksum, offset, length, packHash } of this.byChecksum.values()) added.get(packHash)?.push({ checksum, offset, length });
    const { index, bytes } = extendMultiPackIndex(base, added);
    // Used at once, written or not: the same entries, now found by one search.
    this.useMulti(index);
    // A pack published while the listing ran stays known one by one.
    for (const hash of added.keys()) this.readOneByOne.delete(hash);
    for (const [checksum, { packHash }] of this.byChecksum) if (added.has(packHash)) this.byChecksum.delete(checksum);
    const written = await writeMultiPackIndex(this.fs, this.layout, bytes);
    // The file is sealed with its own inode, which changes its head digest: the in-memory copy takes the file's.
    if (written !== null) index.id = written;
  }

  /**
   * The multi-pack index in use with every bucket read, to extend it (null
   * when none is in use); undefined when the file is no longer the one in
   * use (another process rewrote it): the rewrite is left to a later listing.
   */
  private async wholeMulti(): Promise<MultiPackIndex | null | undefined> {
    if (this.multi === null || this.multi.buckets.size === MULTI_INDEX_BUCKETS) return this.multi;
    const whole = await readWholeMultiPackIndex(this.fs, this.layout);
    if (whole === null || typeof whole === 'string' || whole.id !== this.multi.id) return undefined;
    return whole;
  }

  private rejectMulti(): void {
    this.rejectedMulti = this.multi!.id;
    this.rejections++;
    this.useMulti(null);
  }

  private useMulti(multi: MultiPackIndex | null): void {
    this.multi = multi;
    this.multiPacks = new Set(multi?.packs ?? []);
  }
}

export interface PackedSizes {
  /** mtime of `objects/pack/`, -1 when there is none. */
  mtimeMs: number;
  /** Stored bytes of each packed object, by checksum (from indexes that check out). */
  sizes: Map<string, number>;
  /** Bytes of every file in `objects/pack/`. */
  fileBytes: number;
}

/** The packed objects' sizes, read synchronously, for `getStatistics`. */
export function readPackedSizesSync(fs: StoreFs, layout: StoreLayout): PackedSizes {
  const dir = packDirOf(layout);
  const dirStats = fs.lstatSync(dir);
  const result: PackedSizes = { mtimeMs: dirStats?.isDirectory() ? dirStats.mtimeMs : -1, sizes: new Map(), fileBytes: 0 };
  if (result.mtimeMs === -1) return result;
  for (const name of fs.readdirSync(dir)) {
    const stats = fs.lstatSync(join(dir, name));
    if (stats?.isFile()) result.fileBytes += stats.size;
    const match = PACK_NAME.exec(name);
    if (match === null || match[2] !== 'idx') continue;
    const packSize = fs.lstatSync(packPathOf(layout, match[1]!, 'pack'))?.size;
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(join(dir, name));
    } catch {
      continue; // Removed meanwhile.
    }
    const decoded = packSize === undefined ? null : decodePackIndex(bytes, packSize);
    if (decoded === null || typeof decoded === 'string') continue; // Damage is fsck's business, not a statistic.
    for (const entry of decoded.entries) if (!result.sizes.has(entry.checksum)) result.sizes.set(entry.checksum, entry.length);
  }
  return result;
}
