/**
 * Finding and reading objects in packs (`objects/pack/pack-<sha256>.pack`
 * with its `.idx`; byte layout in src/model/pack-index.ts). An index is
 * trusted only once it decoded whole (its trailing checksum, its order, its
 * bounds against the pack's size) and names its own pack; an index that
 * does not is remembered as damaged, and a lookup that finds its object
 * nowhere else says so instead of calling the object missing.
 *
 * A pack is visible through its index: the writer renames the pack into
 * place before its index, and garbage collection removes the index before
 * the pack, so an index a reader finds always has its pack, unless the pack
 * went since the index was read (then the listing is read again).
 */
import { join } from 'node:path';
import { IntegrityError } from '../errors.js';
import { decodePackIndex, PACK_NAME, type PackEntry } from '../model/pack-index.js';
import { withDescriptor } from './descriptor-pool.js';
import { isErrno, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';
import { FILE_CONCURRENCY, mapLimit } from './write-pool.js';
import type { StoreLayout } from './layout.js';

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

/** The packs of one store as this process last listed them. */
export class PackSet {
  private readonly byChecksum = new Map<string, PackedObject>();
  private readonly listed = new Set<string>();
  private readonly damaged = new Map<string, string>();
  private refreshing: Promise<void> | null = null;
  // mtime of `objects/pack/` when `locateForReuse` last listed it.
  private listedAtMtime = -1;

  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
  ) {}

  /** Where `checksum` is packed, listing `objects/pack/` again when this process does not know it yet. */
  async locate(checksum: string): Promise<PackedObject | null> {
    const known = this.byChecksum.get(checksum);
    if (known !== undefined) return known;
    await this.refresh();
    return this.byChecksum.get(checksum) ?? null;
  }

  /**
   * `locate` for a writer looking for an object to reuse: lists the packs
   * again only when `objects/pack/` changed since the last listing (one
   * stat instead of a listing per save). A pack missed because the time did
   * not move costs one duplicate object, never a wrong read; readers use
   * `locate`, which always lists again on a miss.
   */
  async locateForReuse(checksum: string): Promise<PackedObject | null> {
    const known = this.byChecksum.get(checksum);
    if (known !== undefined) return known;
    const stats = await this.fs.stat(packDirOf(this.layout)).catch(() => null);
    const mtimeMs = stats === null ? -1 : stats.mtimeMs;
    if (mtimeMs === -1 || mtimeMs === this.listedAtMtime) return null;
    await this.refresh();
    this.listedAtMtime = mtimeMs;
    return this.byChecksum.get(checksum) ?? null;
  }

  /** What is known without touching the disk. */
  locateKnown(checksum: string): PackedObject | null {
    return this.byChecksum.get(checksum) ?? null;
  }

  /** Adds a pack this process has just published, without reading its index back. */
  add(packHash: string, entries: readonly PackEntry[]): void {
    this.listed.add(packHash);
    const pack = packPathOf(this.layout, packHash, 'pack');
    for (const entry of entries) this.byChecksum.set(entry.checksum, { ...entry, pack });
  }

  /** Damaged indexes found so far: path and why, for the message of an object found nowhere. */
  damagedIndexes(): Array<{ path: string; reason: string }> {
    return [...this.damaged].map(([hash, reason]) => ({ path: packPathOf(this.layout, hash, 'idx'), reason }));
  }

  /** Lists `objects/pack/` again: loads new indexes, forgets removed ones. */
  refresh(): Promise<void> {
    this.refreshing ??= this.listAgain().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async listAgain(): Promise<void> {
    const present = new Set<string>();
    for (const name of await readdirIfExists(this.fs, packDirOf(this.layout))) {
      const match = PACK_NAME.exec(name);
      if (match !== null && match[2] === 'idx') present.add(match[1]!);
    }
    // A pack that went (collected, or repacked into another) may have shared
    // objects with packs still here: start over rather than untangle them.
    if ([...this.listed].some((hash) => !present.has(hash))) {
      this.listed.clear();
      this.byChecksum.clear();
    }
    for (const hash of this.damaged.keys()) if (!present.has(hash)) this.damaged.delete(hash);
    const unread = [...present].filter((hash) => !this.listed.has(hash));
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
