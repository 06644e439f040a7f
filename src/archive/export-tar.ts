/**
 * Writing a snapshot as a tar (format in src/archive/manifest.ts). The
 * output is deterministic: members in a fixed order (manifest first, then
 * entries sorted by name), every member with mode 0644, uid/gid 0, no user
 * or group names, and the snapshot's time as mtime, so one snapshot always
 * gives the same bytes. Entries are read and written one at a time, with the
 * tar stream's back-pressure, so memory stays flat however many there are.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pack } from 'tar-stream';
import type { SnapshotTree } from '../model/snapshot.js';
import { syncDirs } from '../store/atomic-write.js';
import { nodeFs } from '../store/fs.js';
import type { ObjectStore } from '../store/objects.js';
import { buildManifest, encodeEntryFile, encodeManifest, MANIFEST_NAME } from './manifest.js';

const READ_AHEAD = 16;

export type ProgressListener = (done: number, total: number) => void;

export interface TarExportResult {
  bytes: number;
  entryCount: number;
}

/** Streams the tar of `tree` into `out` (which is ended). */
export async function writeSnapshotTar(
  objects: ObjectStore,
  tree: SnapshotTree,
  treeChecksum: string,
  out: Writable,
  onProgress?: ProgressListener,
): Promise<TarExportResult> {
  const { pack } = await import('tar-stream');
  const tar = pack();
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const written = pipeline(tar, counter, out);
  try {
    const manifest = buildManifest(tree, treeChecksum);
    const mtime = new Date(tree.timestamp);
    await addMember(tar, MANIFEST_NAME, encodeManifest(manifest), mtime);
    const members = [...manifest.entries].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    // Reads run a few entries ahead of the tar, in order, so the disk and the
    // encoder overlap while memory holds at most READ_AHEAD entries.
    const ahead: Array<Promise<Buffer>> = [];
    let started = 0;
    for (const [i, entry] of members.entries()) {
      while (ahead.length < READ_AHEAD && started < members.length) {
        const next = members[started++]!;
        const read = objects.read(next.checksum, next.fullKey);
        read.catch(() => undefined); // awaited below in order; this only silences an early failure
        ahead.push(read);
      }
      const serialized = await ahead.shift()!;
      await addMember(tar, entry.file, encodeEntryFile(serialized), mtime);
      onProgress?.(i + 1, members.length);
    }
    tar.finalize();
  } catch (error) {
    tar.destroy(error as Error);
    await written.catch(() => undefined);
    throw error;
  }
  await written;
  return { bytes, entryCount: tree.entries.length };
}

/** Resolves once the member is in the tar stream, which waits while the output is slow. */
function addMember(tar: Pack, name: string, body: Buffer, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    tar.entry({ name, size: body.length, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime, type: 'file' }, body, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}

/**
 * Writes a file atomically: `produce` streams into a temporary file beside
 * `target`, which is fsynced and renamed over it, and the directory fsynced.
 * A failure leaves `target` as it was.
 */
export async function writeFileStreamAtomic<T>(target: string, produce: (out: Writable) => Promise<T>): Promise<T> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const result = await produce(createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
    const handle = await open(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    await syncDirs(nodeFs, [dirname(target)]);
    return result;
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
