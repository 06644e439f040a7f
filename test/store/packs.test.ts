/**
 * Packs as readers and writers meet them: an object reads back the same
 * loose or packed, a damaged pack or index is an IntegrityError naming the
 * pack (never wrong data), writers reuse packed objects instead of writing
 * loose copies, and the pack's name is the sha256 of its bytes.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { openStore } from '../../src/manager/open-store.js';
import { decodePackIndex } from '../../src/model/pack-index.js';
import { nodeFs } from '../../src/store/fs.js';
import { storeLayout } from '../../src/store/layout.js';
import { ObjectStore, sha256Hex } from '../../src/store/objects.js';
import { PackWriter, syncCommitObjects } from '../../src/store/pack-writer.js';
import { packDirOf } from '../../src/store/packs.js';
import { tempProject } from '../helpers.js';

async function store() {
  const root = await tempProject();
  const layout = storeLayout(root, '.ae');
  await openStore(nodeFs, layout);
  return { layout, objects: new ObjectStore(nodeFs, layout) };
}

const docs = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ i, text: 'spec '.repeat(i * 40) })));

/** Writes `bytes` into one pack, published the way a commit publishes it. */
async function writePack(layout: ReturnType<typeof storeLayout>, objects: ObjectStore, bytes: Buffer[]) {
  const pack = new PackWriter(nodeFs, layout, objects);
  const stored = [];
  for (const [i, b] of bytes.entries()) stored.push(await pack.write(b, i % 2 === 0));
  const synced = await syncCommitObjects(objects, stored.map((s) => s.checksum), pack);
  return { stored, pack: pack.packPath!, dirs: synced.dirs };
}

async function packFiles(layout: ReturnType<typeof storeLayout>) {
  const names = (await readdir(packDirOf(layout))).sort();
  return { pack: join(packDirOf(layout), names.find((n) => n.endsWith('.pack'))!), idx: join(packDirOf(layout), names.find((n) => n.endsWith('.idx'))!) };
}

describe('packs', () => {
  it('writes every new object of a pack into one file named by the sha256 of its bytes, and reads each back verified', async () => {
    const { layout, objects } = await store();
    const bytes = docs(30);
    const { stored, pack, dirs } = await writePack(layout, objects, bytes);
    expect(await readdir(packDirOf(layout))).toHaveLength(2);
    const content = await readFile(pack);
    expect(pack).toBe(join(packDirOf(layout), `pack-${createHash('sha256').update(content).digest('hex')}.pack`));
    expect(dirs).toContain(packDirOf(layout));
    // No loose object was written.
    expect((await readdir(layout.objects)).filter((n) => n !== 'pack')).toEqual([]);
    // A fresh reader (another process, say) finds them through the index.
    const reader = new ObjectStore(nodeFs, layout);
    for (const [i, s] of stored.entries()) {
      expect(s.checksum).toBe(sha256Hex(bytes[i]!));
      expect(await reader.read(s.checksum)).toEqual(bytes[i]);
    }
  });

  it('stores content that appears twice in a pack once', async () => {
    const { layout, objects } = await store();
    const [a] = docs(1);
    const pack = new PackWriter(nodeFs, layout, objects);
    await Promise.all([pack.write(a!, false), pack.write(a!, false), pack.write(a!, false)]);
    expect(pack.count).toBe(1);
  });

  it('reuses an object that exists packed: a later save writes no loose copy', async () => {
    const { layout, objects } = await store();
    const bytes = docs(3);
    await writePack(layout, objects, bytes);
    const writer = new ObjectStore(nodeFs, layout);
    const again = await writer.write(bytes[1]!, false);
    expect(again.dirsToSync).toEqual([]);
    expect((await readdir(layout.objects)).filter((n) => n !== 'pack')).toEqual([]);
    await writer.syncObjects([again.checksum]);
    const second = new PackWriter(nodeFs, layout, writer);
    await second.write(bytes[2]!, true);
    expect(second.count).toBe(0);
  });

  it('refuses an object whose bytes in the pack were altered, naming the pack', async () => {
    const { layout, objects } = await store();
    const bytes = docs(5);
    const { stored } = await writePack(layout, objects, bytes);
    const { pack, idx } = await packFiles(layout);
    const index = decodePackIndex(await readFile(idx), (await readFile(pack)).length);
    if (typeof index === 'string') throw new Error(index);
    const target = index.entries.find((e) => e.checksum === stored[3]!.checksum)!;
    const content = await readFile(pack);
    content[target.offset + Math.floor(target.length / 2)]! ^= 0xff;
    await writeFile(pack, content);
    const reader = new ObjectStore(nodeFs, layout);
    const error = await reader.read(stored[3]!.checksum).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).message).toContain(pack);
    // The other objects of the pack still read back.
    expect(await reader.read(stored[0]!.checksum)).toEqual(bytes[0]);
  });

  it('refuses to trust a damaged index: its objects are an IntegrityError naming it, not wrong data', async () => {
    const { layout, objects } = await store();
    const { stored } = await writePack(layout, objects, docs(4));
    const { idx } = await packFiles(layout);
    const content = await readFile(idx);
    content[60]! ^= 0x01; // Inside the first entry: the trailing checksum no longer matches.
    await writeFile(idx, content);
    const reader = new ObjectStore(nodeFs, layout);
    for (const s of stored) {
      const error = await reader.read(s.checksum).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).message).toContain(idx);
      expect((error as IntegrityError).message).toContain('does not match its checksum');
    }
  });

  it('a pack that is dropped before it is published leaves nothing behind', async () => {
    const { layout, objects } = await store();
    const pack = new PackWriter(nodeFs, layout, objects);
    const stored = await pack.write(docs(1)[0]!, false);
    // Its own process reads it meanwhile (a transaction's read of its own save).
    expect(await objects.read(stored.checksum)).toEqual(docs(1)[0]);
    await pack.discard();
    expect(await readdir(layout.tmp)).toEqual([]);
    await expect(objects.read(stored.checksum)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('two open packs of one process with the same object: dropping one leaves the other readable', async () => {
    const { layout, objects } = await store();
    const [doc] = docs(1);
    const first = new PackWriter(nodeFs, layout, objects);
    const second = new PackWriter(nodeFs, layout, objects);
    await first.write(doc!, false);
    const stored = await second.write(doc!, false);
    await first.discard();
    expect(await objects.read(stored.checksum)).toEqual(doc);
    await second.discard();
  });

  it('a commit fails rather than name a packed object whose pack was removed after staging', async () => {
    const { layout, objects } = await store();
    const { stored, pack } = await writePack(layout, objects, docs(2));
    const { rm } = await import('node:fs/promises');
    await rm(pack.replace(/\.pack$/, '.idx'));
    await rm(pack);
    const writer = new ObjectStore(nodeFs, layout);
    await expect(writer.syncObjects([stored[0]!.checksum])).rejects.toThrow(/was removed/);
  });
});
