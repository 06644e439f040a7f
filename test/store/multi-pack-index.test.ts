/**
 * The multi-pack index as readers meet it: a fresh process finds every
 * object of many packs through it without reading their indexes; a damaged,
 * torn, missing or stale copy is ignored and written again; packs that
 * arrived after it (another process, a git merge) are found beside it; a
 * store whose `local/` cannot be written reads as before.
 */
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { openStore } from '../../src/manager/open-store.js';
import { decodeMultiPackIndex, encodeMultiPackIndex, lookupMultiPackIndex, multiPackIndexEntries, sealMultiPackIndex } from '../../src/model/multi-pack-index.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { storeLayout, type StoreLayout } from '../../src/store/layout.js';
import { ObjectStore } from '../../src/store/objects.js';
import { PackWriter, syncCommitObjects } from '../../src/store/pack-writer.js';
import { MULTI_INDEX_REBUILD_OBJECTS, MULTI_INDEX_REBUILD_PACKS, packDirOf } from '../../src/store/packs.js';
import { tempProject } from '../helpers.js';

async function store() {
  const root = await tempProject();
  const layout = storeLayout(root, '.ae');
  await openStore(nodeFs, layout);
  return { layout, objects: new ObjectStore(nodeFs, layout) };
}

const doc = (tag: string, i: number) => Buffer.from(JSON.stringify({ tag, i, text: 'spec '.repeat(i * 7) }));

/** `count` packs of `perPack` new objects each, published the way commits publish them; answers every object's checksum and bytes. */
async function writePacks(layout: StoreLayout, objects: ObjectStore, count: number, perPack = 5, tag = 'p') {
  const written = new Map<string, Buffer>();
  for (let p = 0; p < count; p++) {
    const pack = new PackWriter(nodeFs, layout, objects);
    const stored = [];
    for (let i = 0; i < perPack; i++) {
      const bytes = doc(`${tag}${p}`, i);
      const s = await pack.write(bytes, i % 2 === 0);
      written.set(s.checksum, bytes);
      stored.push(s.checksum);
    }
    await syncCommitObjects(objects, stored, pack);
  }
  return written;
}

const packHashes = async (layout: StoreLayout) =>
  (await readdir(packDirOf(layout))).filter((name) => name.endsWith('.idx')).map((name) => name.slice(5, 69)).sort();

async function multiIndexPacks(layout: StoreLayout): Promise<string[] | string | null> {
  const bytes = await readFile(layout.multiPackIndex).catch(() => null);
  if (bytes === null) return null;
  const index = decodeMultiPackIndex(bytes);
  return typeof index === 'string' ? index : index.packs;
}

/** nodeFs that records the paths it reads whole, those it opens for positioned reads, and the directories it lists. */
function countingFs(): { fs: StoreFs; reads: string[]; opens: string[]; listed: string[] } {
  const reads: string[] = [];
  const opens: string[] = [];
  const listed: string[] = [];
  const fs: StoreFs = {
    ...nodeFs,
    readdir: ((path: string, ...rest: unknown[]) => {
      listed.push(String(path));
      return (nodeFs.readdir as (...a: unknown[]) => Promise<string[]>)(path, ...rest);
    }) as StoreFs['readdir'],
    readFile: ((path: string, ...rest: unknown[]) => {
      reads.push(String(path));
      return (nodeFs.readFile as (...a: unknown[]) => Promise<Buffer>)(path, ...rest);
    }) as StoreFs['readFile'],
    open: ((path: string, ...rest: unknown[]) => {
      opens.push(String(path));
      return (nodeFs.open as (...a: unknown[]) => ReturnType<StoreFs['open']>)(path, ...rest);
    }) as StoreFs['open'],
  };
  return { fs, reads, opens, listed };
}

async function expectAllRead(reader: ObjectStore, written: Map<string, Buffer>) {
  for (const [checksum, bytes] of written) expect(await reader.read(checksum)).toEqual(bytes);
}

describe('multi-pack index', () => {
  it('lets a fresh process find every object of many packs without reading their indexes', async () => {
    const { layout, objects } = await store();
    const written = await writePacks(layout, objects, 30);
    await rm(layout.multiPackIndex);
    // The first fresh reader reads the indexes it finds no multi-pack index for, and writes one naming them all.
    await expectAllRead(new ObjectStore(nodeFs, layout), written);
    expect(await multiIndexPacks(layout)).toEqual(await packHashes(layout));
    const { fs, reads, opens } = countingFs();
    await expectAllRead(new ObjectStore(fs, layout), written);
    expect([...reads, ...opens].filter((path) => path.endsWith('.idx'))).toEqual([]);
    // Its head once, then each bucket the objects fall in once (with its fan-out slot's table on the same descriptor): never the file whole.
    const buckets = new Set([...written.keys()].map((checksum) => checksum.slice(0, 3)));
    expect(reads.filter((path) => path === layout.multiPackIndex)).toEqual([]);
    expect(opens.filter((path) => path === layout.multiPackIndex)).toHaveLength(1 + buckets.size);
    // One object in another fresh process: the head, then a table and one bucket.
    const one = countingFs();
    const [checksum, bytes] = [...written][0]!;
    expect(await new ObjectStore(one.fs, layout).read(checksum)).toEqual(bytes);
    expect(one.opens.filter((path) => path === layout.multiPackIndex)).toHaveLength(2);
  });

  it('places an object for a fresh process from its head and one bucket, before the packs are listed; a miss lists them', async () => {
    const { layout, objects } = await store();
    const named = await writePacks(layout, objects, 10);
    // A reader that finds no multi-pack index writes one naming every pack.
    await rm(layout.multiPackIndex);
    await expectAllRead(new ObjectStore(nodeFs, layout), named);
    expect(await multiIndexPacks(layout)).toEqual(await packHashes(layout));
    // Packs published since the index was written, fewer than make a listing write it again.
    const later = await writePacks(layout, objects, MULTI_INDEX_REBUILD_PACKS - 1, 5, 'later');
    const { fs, reads, opens, listed } = countingFs();
    const reader = new ObjectStore(fs, layout);
    const [checksum, bytes] = [...named][3]!;
    expect(await reader.read(checksum)).toEqual(bytes);
    expect(listed.filter((path) => path === packDirOf(layout))).toEqual([]);
    expect([...reads, ...opens].filter((path) => path.endsWith('.idx'))).toEqual([]);
    // An object of a later pack is not in the index: the packs are listed and the later ones' indexes read.
    await expectAllRead(reader, later);
    expect(listed.filter((path) => path === packDirOf(layout))).toHaveLength(1);
    expect(reads.filter((path) => path.endsWith('.idx'))).toHaveLength(MULTI_INDEX_REBUILD_PACKS - 1);
    await expectAllRead(reader, named);
  });

  it('is kept up by the writer as it publishes packs: a fresh reader reads at most as many indexes as the rebuild threshold', async () => {
    const { layout, objects } = await store();
    const written = await writePacks(layout, objects, 3 * MULTI_INDEX_REBUILD_PACKS + 1);
    const { fs, reads } = countingFs();
    await expectAllRead(new ObjectStore(fs, layout), written);
    const indexReads = reads.filter((path) => path.endsWith('.idx')).length;
    expect(indexReads).toBeGreaterThan(0);
    expect(indexReads).toBeLessThanOrEqual(MULTI_INDEX_REBUILD_PACKS);
  });

  it('is written again for one pack outside it that holds many objects, so fresh readers do not each read that pack\'s index', async () => {
    const { layout, objects } = await store();
    await expectAllRead(new ObjectStore(nodeFs, layout), await writePacks(layout, objects, 1, 4));
    const [small] = await packHashes(layout);
    expect(await multiIndexPacks(layout)).toEqual([small]);
    const large = await writePacks(layout, objects, 1, MULTI_INDEX_REBUILD_OBJECTS, 'large');
    const [checksum, bytes] = [...large][0]!;
    // The first fresh reader finds the pack outside the multi-pack index, reads its index and writes the multi-pack index again.
    expect(await new ObjectStore(nodeFs, layout).read(checksum)).toEqual(bytes);
    expect(await multiIndexPacks(layout)).toEqual(await packHashes(layout));
    const { fs, reads } = countingFs();
    expect(await new ObjectStore(fs, layout).read(checksum)).toEqual(bytes);
    expect(reads.filter((path) => path.endsWith('.idx'))).toEqual([]);
  });

  for (const [damage, spoil] of [
    // In the last entry, so in a bucket the reads below need (a byte of a table or bucket no read needs is never looked at).
    ['a flipped byte', async (path: string) => {
      const bytes = await readFile(path);
      bytes[bytes.length - 30]! ^= 0x20;
      await writeFile(path, bytes);
    }],
    ['a torn copy', async (path: string) => writeFile(path, (await readFile(path)).subarray(0, 1500))],
    ['an empty file', async (path: string) => writeFile(path, '')],
    ['no file', async (path: string) => rm(path)],
    ['a directory in its place', async (path: string) => (await rm(path), await mkdir(path))],
  ] as const) {
    it(`ignores a multi-pack index with ${damage}: every object still reads back, and a good one is written again`, async () => {
      const { layout, objects } = await store();
      const written = await writePacks(layout, objects, 12);
      await expectAllRead(new ObjectStore(nodeFs, layout), written);
      await spoil(layout.multiPackIndex);
      await expectAllRead(new ObjectStore(nodeFs, layout), written);
      if (damage === 'a directory in its place') return; // Not replaced: a rename over a directory fails, and the reader does without.
      expect(await multiIndexPacks(layout)).toEqual(await packHashes(layout));
    });
  }

  it('finds an object kept in another pack when the multi-pack index places it in a pack that went, and writes the index again without that pack', async () => {
    const { layout, objects } = await store();
    const written = await writePacks(layout, objects, 10);
    // A second copy of one object in a pack of its own, as a repack leaves it.
    const [shared, sharedBytes] = [...written][0]!;
    const repack = new PackWriter(nodeFs, layout, objects);
    await repack.copyStored(shared, (await objects.readStored(shared))!.stored);
    await repack.publishDurably();
    await rm(layout.multiPackIndex);
    await expectAllRead(new ObjectStore(nodeFs, layout), written);
    expect(await multiIndexPacks(layout)).toEqual(await packHashes(layout));
    // The pack the multi-pack index places the object in goes (index first, as GC removes it).
    const index = decodeMultiPackIndex(await readFile(layout.multiPackIndex));
    if (typeof index === 'string') throw new Error(index);
    const listed = lookupMultiPackIndex(index, shared);
    if (listed === null || typeof listed === 'string') throw new Error(`not listed: ${listed}`);
    await rm(join(packDirOf(layout), `pack-${listed.packHash}.idx`));
    await rm(join(packDirOf(layout), `pack-${listed.packHash}.pack`));
    // A fresh process that only asks where the object is (stats, the web view) is not sent to the pack that went,
    // even after a read of another object took the index without listing the packs (first: a listing writes the index again).
    const [other, otherBytes] = [...written].find(([checksum]) => lookupMultiPackIndex(index, checksum)?.packHash !== listed.packHash)!;
    const afterRead = new ObjectStore(nodeFs, layout);
    expect(await afterRead.read(other)).toEqual(otherBytes);
    const whereAfterRead = await afterRead.locate(shared);
    expect(whereAfterRead).toMatchObject({ packed: true });
    expect(whereAfterRead!.path).not.toContain(listed.packHash);
    const where = await new ObjectStore(nodeFs, layout).locate(shared);
    expect(where).toMatchObject({ packed: true });
    expect(where!.path).not.toContain(listed.packHash);
    // Nor is one that reads it, before or after a look through the stale index.
    expect(await new ObjectStore(nodeFs, layout).readStored(shared)).toMatchObject({ stored: (await objects.readStored(shared))!.stored });
    expect(await new ObjectStore(nodeFs, layout).read(shared)).toEqual(sharedBytes);
    expect(await multiIndexPacks(layout)).toEqual(await packHashes(layout));
    expect(await multiIndexPacks(layout)).not.toContain(listed.packHash);
  });

  it('answers an object of a pack that went as missing', async () => {
    const { layout, objects } = await store();
    const written = await writePacks(layout, objects, 10, 1);
    await expectAllRead(new ObjectStore(nodeFs, layout), written);
    const [hash] = await packHashes(layout);
    await rm(join(packDirOf(layout), `pack-${hash}.idx`));
    await rm(join(packDirOf(layout), `pack-${hash}.pack`));
    const reader = new ObjectStore(nodeFs, layout);
    const results = await Promise.all([...written.keys()].map((checksum) => reader.read(checksum).then(() => 'read', (e: unknown) => e)));
    expect(results.filter((r) => r === 'read')).toHaveLength(9);
    const error = results.find((r) => r !== 'read');
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).message).toMatch(/is missing/);
  });

  it('finds packs published after it by another process, in a reader that has it loaded and in a fresh one', async () => {
    const { layout, objects } = await store();
    const written = await writePacks(layout, objects, 10);
    const reader = new ObjectStore(nodeFs, layout);
    await expectAllRead(reader, written);
    const other = new ObjectStore(nodeFs, layout);
    const later = await writePacks(layout, other, 2, 5, 'later');
    await expectAllRead(reader, later);
    await expectAllRead(new ObjectStore(nodeFs, layout), new Map([...written, ...later]));
  });

  it('finds packs a git merge brought in beside it, and names them once enough have come', async () => {
    const { layout, objects } = await store();
    const written = await writePacks(layout, objects, 10);
    await expectAllRead(new ObjectStore(nodeFs, layout), written);
    // The other branch's packs arrive as files, with the multi-pack index of this machine unchanged.
    const branch = await store();
    const merged = await writePacks(branch.layout, branch.objects, MULTI_INDEX_REBUILD_PACKS, 3, 'branch');
    for (const name of await readdir(packDirOf(branch.layout))) await cp(join(packDirOf(branch.layout), name), join(packDirOf(layout), name));
    const all = new Map([...written, ...merged]);
    await expectAllRead(new ObjectStore(nodeFs, layout), all);
    expect(await multiIndexPacks(layout)).toEqual(await packHashes(layout));
  });

  it('reads every object when local/ cannot be written, reading the indexes one by one', async () => {
    const { layout, objects } = await store();
    const written = await writePacks(layout, objects, 12);
    await rm(layout.multiPackIndex);
    const readOnly: StoreFs = {
      ...nodeFs,
      open: ((path: string, flags: unknown, mode: unknown) => {
        if (String(path).startsWith(layout.tmp)) return Promise.reject(Object.assign(new Error(`EROFS: read-only file system, open '${path}'`), { code: 'EROFS' }));
        return (nodeFs.open as (...a: unknown[]) => ReturnType<StoreFs['open']>)(path, flags, mode);
      }) as StoreFs['open'],
    };
    await expectAllRead(new ObjectStore(readOnly, layout), written);
    expect(await multiIndexPacks(layout)).toBeNull();
  });

  it('is not used as a copy, or as a clone brings it: it is written again for this file', async () => {
    const { layout, objects } = await store();
    const written = await writePacks(layout, objects, 12);
    await expectAllRead(new ObjectStore(nodeFs, layout), written);
    const original = await readFile(layout.multiPackIndex);
    // The same bytes as a new file (another inode: written while the original still exists), as a copy or a checkout writes them.
    const copy = join(layout.tmp, 'copied-multi-pack-index');
    await writeFile(copy, original);
    expect((await stat(copy)).ino).not.toBe((await stat(layout.multiPackIndex)).ino);
    await rename(copy, layout.multiPackIndex);
    const { fs, reads } = countingFs();
    await expectAllRead(new ObjectStore(fs, layout), written);
    expect(reads.filter((path) => path.endsWith('.idx')).length).toBe(12);
    expect(await readFile(layout.multiPackIndex)).not.toEqual(original);
    expect(await multiIndexPacks(layout)).toEqual(await packHashes(layout));
  });

  it('never makes a packed object missing when it leaves that object out, even sealed for its own file', async () => {
    const { layout, objects } = await store();
    const written = await writePacks(layout, objects, 12);
    await expectAllRead(new ObjectStore(nodeFs, layout), written);
    // A faulty index naming every pack but listing one object fewer, sealed with the inode of the file it is written as.
    const whole = decodeMultiPackIndex(await readFile(layout.multiPackIndex));
    if (typeof whole === 'string') throw new Error(whole);
    const [left] = [...written.keys()];
    const byPack = new Map(whole.packs.map((hash) => [hash, [] as Array<{ checksum: string; offset: number; length: number }>]));
    for (const entry of multiPackIndexEntries(whole)) if (entry.checksum !== left) byPack.get(entry.packHash)!.push(entry);
    const faulty = join(layout.tmp, 'faulty-multi-pack-index');
    await writeFile(faulty, encodeMultiPackIndex(byPack).bytes);
    await writeFile(faulty, sealMultiPackIndex(await readFile(faulty), await stat(faulty)).bytes);
    await rename(faulty, layout.multiPackIndex);
    const reader = new ObjectStore(nodeFs, layout);
    expect(await reader.read(left!)).toEqual(written.get(left!));
    await expectAllRead(reader, written);
    // The faulty index was dropped and written again whole.
    const rewritten = decodeMultiPackIndex(await readFile(layout.multiPackIndex));
    if (typeof rewritten === 'string') throw new Error(rewritten);
    expect(multiPackIndexEntries(rewritten).map((e) => e.checksum)).toContain(left);
  });
});
