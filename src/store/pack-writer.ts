/**
 * Writing one pack for a transaction or a bulk write: every new object is
 * appended to one temporary file in `local/tmp/` as it is staged (so memory
 * holds only the index, never the data), and at the commit the pack and its
 * index are fsynced once each and renamed into `objects/pack/`, the pack
 * before its index (the index is what makes a pack visible). The directory
 * is fsynced with the commit's ref directories, before the commit point.
 *
 * Crash safety: a pack under construction is a temp file (debris once its
 * process is gone); a crash after the renames but before the commit point
 * leaves a pack nothing names, which garbage collection removes after its
 * grace period. Objects that exist already, loose or packed, are reused and
 * not written again.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { encodePackIndex, packHeader, PACK_HEADER_SIZE, type PackEntry } from '../model/pack-index.js';
import { syncDirs, tempPathFor, writeDurableFile } from './atomic-write.js';
import { isErrno, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import { isGzip, sha256Hex, type ObjectStore, type StoredObject } from './objects.js';
import { packDirOf, packPathOf } from './packs.js';

/** What writes the objects of a save: the object store itself (loose files), or a pack writer. */
export interface ObjectWriter {
  write(serialized: Buffer, compress: boolean, checksum?: string): Promise<StoredObject>;
}

export class PackWriter implements ObjectWriter {
  private handle: Promise<FileHandle> | null = null;
  private readonly tempPath: string;
  private readonly hash: Hash = createHash('sha256');
  private size = PACK_HEADER_SIZE;
  private readonly entries = new Map<string, PackEntry & { compressed: boolean }>();
  /** The newest append; each waits for the one before it, so this settles after all of them. */
  private lastWrite: Promise<unknown> = Promise.resolve();
  private state: 'open' | 'publishing' | 'published' | 'discarded' = 'open';
  /** The published pack's path, once published. */
  packPath: string | null = null;

  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreLayout,
    private readonly objects: ObjectStore,
  ) {
    this.tempPath = tempPathFor(layout.tmp, 'pack');
  }

  /** Objects appended to this pack so far. */
  get count(): number {
    return this.entries.size;
  }

  /**
   * Stores serialised bytes in the pack unless the store (or this pack)
   * has them already. `dirsToSync` is non-empty exactly for a new object,
   * as for a loose write.
   */
  async write(serialized: Buffer, compress: boolean, checksum = sha256Hex(serialized)): Promise<StoredObject> {
    const own = this.entries.get(checksum);
    if (own !== undefined) return this.storedOf(checksum, own);
    const reused = await this.objects.findReusable(checksum);
    if (reused !== null) return reused;
    // A save still staging when its transaction ends writes a loose object
    // (nothing names it: the transaction refuses the save, and GC collects it).
    if (this.state !== 'open') return this.objects.write(serialized, compress, checksum);
    // Checked again: a concurrent save of the same content may have appended it meanwhile.
    const appended = this.entries.get(checksum) ?? this.append(checksum, compress ? gzipSync(serialized) : serialized, compress);
    await this.lastWrite;
    return this.storedOf(checksum, appended);
  }

  /**
   * Appends stored bytes already verified against `checksum` as they are,
   * without looking for the object elsewhere: for a repack, which copies
   * live objects out of the pack it is about to remove.
   */
  async copyStored(checksum: string, stored: Buffer): Promise<void> {
    this.assertOpen();
    if (this.entries.has(checksum)) return;
    this.append(checksum, stored, isGzip(stored));
    await this.lastWrite;
  }

  /**
   * fsyncs the pack and its index and renames them into `objects/pack/`;
   * answers the directories whose entries the caller must fsync before the
   * commit point. An empty pack publishes nothing.
   */
  async publish(): Promise<string[]> {
    this.assertOpen();
    this.state = 'publishing';
    if (this.entries.size === 0) {
      this.state = 'published';
      return [];
    }
    const handle = await this.handle!;
    await this.lastWrite;
    const packHash = this.hash.digest('hex');
    const entries = [...this.entries.values()].map(({ checksum, offset, length }) => ({ checksum, offset, length }));
    const indexTemp = tempPathFor(this.layout.tmp, 'pack.idx');
    // The pack's and the index's fsyncs run together: neither is visible before both renames.
    const packPath = packPathOf(this.layout, packHash, 'pack');
    let createdDir: boolean;
    try {
      const synced = await Promise.allSettled([handle.sync(), writeDurableFile(this.fs, indexTemp, encodePackIndex(packHash, entries))]);
      const failed = synced.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      await handle.close();
      this.handle = null;
      createdDir = await this.renameIntoPackDir(this.tempPath, packPath);
      await this.fs.rename(indexTemp, packPathOf(this.layout, packHash, 'idx'));
    } catch (error) {
      // The pack's temporary file goes with `discard`; the index's goes here.
      await this.fs.unlink(indexTemp).catch(() => undefined);
      throw error;
    }
    this.state = 'published';
    this.packPath = packPath;
    this.objects.packs.add(packHash, entries);
    this.objects.markPackFlushed(packPath, false);
    this.forgetUnpublished();
    return createdDir ? [packDirOf(this.layout), this.layout.objects] : [packDirOf(this.layout)];
  }

  /**
   * Publishes the pack on its own, outside a commit, and makes it durable:
   * for objects that something other than a commit names (a snapshot's tree).
   */
  async publishDurably(): Promise<void> {
    if (this.state !== 'open') return;
    const dirs = await this.publish();
    await syncDirs(this.fs, dirs);
    if (this.packPath !== null) this.objects.markPackFlushed(this.packPath, true);
  }

  /**
   * Removes this pack whether published or not, for a failed import that
   * holds the write lock throughout (so no commit can have named its
   * objects since they were published).
   */
  async withdraw(): Promise<void> {
    if (this.state !== 'published' || this.packPath === null) return this.discard();
    await this.fs.unlink(this.packPath.replace(/\.pack$/, '.idx')).catch(() => undefined);
    await this.fs.unlink(this.packPath).catch(() => undefined);
    await this.objects.packs.refresh();
  }

  /** Drops a pack that was not published (a rollback, a failed import): its temporary file goes. */
  async discard(): Promise<void> {
    if (this.state === 'published' || this.state === 'discarded') return;
    this.state = 'discarded';
    this.forgetUnpublished();
    if (this.entries.size === 0) return;
    const handle = this.handle === null ? null : await this.handle.catch(() => null);
    await this.lastWrite.catch(() => undefined);
    await handle?.close().catch(() => undefined);
    this.handle = null;
    await this.fs.unlink(this.tempPath).catch(() => undefined);
  }

  /**
   * Appends synchronously (offset and hash advance in call order, so the
   * pack's name is the hash of exactly the bytes at those offsets); the
   * writes themselves run in the background, one after another.
   */
  private append(checksum: string, bytes: Buffer, compressed: boolean): PackEntry & { compressed: boolean } {
    if (this.handle === null) {
      const header = packHeader();
      this.hash.update(header);
      this.handle = this.fs.open(this.tempPath, 'wx', 0o644);
      this.lastWrite = this.handle.then((h) => h.write(header));
    }
    const entry = { checksum, offset: this.size, length: bytes.length, compressed };
    this.size += bytes.length;
    this.hash.update(bytes);
    this.entries.set(checksum, entry);
    const handle = this.handle;
    // Appends in call order: each write starts once the one before it is done.
    this.lastWrite = this.lastWrite.then(async () => (await handle).write(bytes));
    this.objects.trackUnpublished(checksum, { ...entry, pack: this.tempPath });
    return entry;
  }

  private forgetUnpublished(): void {
    for (const entry of this.entries.values()) this.objects.trackUnpublished(entry.checksum, { ...entry, pack: this.tempPath }, true);
  }

  private storedOf(checksum: string, entry: PackEntry & { compressed: boolean }): StoredObject {
    return { checksum, compressed: entry.compressed, storedSize: entry.length, dirsToSync: [packDirOf(this.layout)] };
  }

  private async renameIntoPackDir(from: string, to: string): Promise<boolean> {
    try {
      await this.fs.rename(from, to);
      return false;
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      await this.fs.mkdir(packDirOf(this.layout), { recursive: true });
      await this.fs.rename(from, to);
      return true;
    }
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new Error(`pack writer is ${this.state}`);
  }
}

/**
 * The object half of a commit's first fsync round: publishes the commit's
 * pack, if it has one, then fsyncs every other object it names. Answers the
 * directories to fsync before the commit point, as `syncObjectFiles` does.
 */
export async function syncCommitObjects(
  objects: ObjectStore,
  checksums: Iterable<string>,
  pack: PackWriter | undefined,
): Promise<{ dirs: string[]; markDurable: () => void }> {
  const packDirs = pack === undefined ? [] : await pack.publish();
  const synced = await objects.syncObjectFiles(checksums);
  return { dirs: [...synced.dirs, ...packDirs], markDurable: synced.markDurable };
}
