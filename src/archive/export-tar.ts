/**
 * Writing a snapshot as a tar (format in src/archive/manifest.ts). The
 * output is deterministic: members in a fixed order (manifest first, then
 * entries sorted by name), every member with mode 0644, uid/gid 0, no user
 * or group names, and the snapshot's time as mtime, so one snapshot always
 * gives the same bytes. Entries are read and written one at a time, with the
 * tar stream's back-pressure, so memory stays flat however many there are.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pack } from 'tar-stream';
import type { SnapshotTree } from '../model/snapshot.js';
import { syncDirs } from '../store/atomic-write.js';
import { nodeFs, readdirIfExists, type StoreFs } from '../store/fs.js';
import { isProcessAlive } from '../store/process.js';
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
  // A failing output (ENOSPC, EIO) rejects `written` while an entry is still
  // being added; without a handler from the start that rejection would be
  // unhandled and end the process.
  written.catch(() => undefined);
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
    // When the output failed, the entry only saw the stream close: report the output's error.
    const outputError = await written.then(() => null, (e: unknown) => e);
    throw outputError ?? error;
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
 * A failure leaves `target` as it was. Every write, fsync and rename goes
 * through `fs`, so disk faults during an export can be injected in tests.
 */
export async function writeFileStreamAtomic<T>(target: string, produce: (out: Writable) => Promise<T>, fs: StoreFs = nodeFs): Promise<T> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await removeDeadExportTemps(fs, target);
  let handle: FileHandle | null = null;
  try {
    handle = await fs.open(temp, 'wx', 0o644);
    const result = await produce(handleWriter(handle));
    await handle.sync();
    await handle.close();
    handle = null;
    await fs.rename(temp, target);
    await syncDirs(fs, [dirname(target)]);
    return result;
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * Removes the temporary files that killed exports to the same `target` left
 * beside it: only regular files named exactly `.<target name>.<pid>.<8 hex>.tmp`
 * whose pid no longer runs, so nothing else in the user's directory is touched.
 */
async function removeDeadExportTemps(fs: StoreFs, target: string): Promise<void> {
  const name = basename(target);
  const dir = dirname(target);
  for (const entry of await readdirIfExists(fs, dir)) {
    if (!entry.startsWith(`.${name}.`) || !entry.endsWith('.tmp')) continue;
    const match = /^([1-9]\d{0,9})\.[0-9a-f]{8}\.tmp$/.exec(entry.slice(name.length + 2));
    if (match === null || isProcessAlive(Number(match[1]))) continue;
    const path = join(dir, entry);
    if ((await fs.lstat(path).catch(() => null))?.isFile()) await fs.unlink(path).catch(() => undefined);
  }
}

/** A Writable over a file handle; the handle's own `write` does the work, one chunk at a time. */
function handleWriter(handle: FileHandle): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      handle.write(chunk).then(() => callback(), callback);
    },
  });
}
