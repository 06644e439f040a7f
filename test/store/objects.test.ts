import { readFile, readdir, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { openStore } from '../../src/manager/open-store.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { storeLayout } from '../../src/store/layout.js';
import { ObjectStore, sha256Hex } from '../../src/store/objects.js';
import { run, tempProject } from '../helpers.js';

async function objectStore() {
  const root = await tempProject();
  const layout = storeLayout(root, '.ae');
  await openStore(nodeFs, layout);
  return { layout, objects: new ObjectStore(nodeFs, layout) };
}

describe('object store', () => {
  it('names an object by the sha256 of its uncompressed bytes, under a two-hex fan-out directory', async () => {
    const { objects, layout } = await objectStore();
    const bytes = Buffer.from('{"hello":"world"}');
    const stored = await objects.write(bytes, false);
    expect(stored.checksum).toBe(sha256Hex(bytes));
    expect(objects.pathOf(stored.checksum)).toBe(`${layout.objects}/${stored.checksum.slice(0, 2)}/${stored.checksum.slice(2)}`);
    expect(await readFile(objects.pathOf(stored.checksum))).toEqual(bytes);
  });

  it('stores compressed objects as plain gzip streams that zcat can print', async () => {
    const { objects } = await objectStore();
    const bytes = Buffer.from(JSON.stringify({ text: 'x'.repeat(5000) }));
    const stored = await objects.write(bytes, true);
    expect(stored.compressed).toBe(true);
    expect(stored.storedSize).toBeLessThan(bytes.length);
    const path = objects.pathOf(stored.checksum);
    expect(gunzipSync(await readFile(path))).toEqual(bytes);
    expect(await run('sh', ['-c', `zcat < "${path}"`])).toBe(bytes.toString());
    expect(await objects.read(stored.checksum)).toEqual(bytes);
  });

  it('stores identical content once and reports how it is stored', async () => {
    const { objects, layout } = await objectStore();
    const bytes = Buffer.from('{"same":true}'.padEnd(3000, ' '));
    const first = await objects.write(bytes, true);
    const second = await objects.write(bytes, false);
    expect(second.dirsToSync).toEqual([]);
    expect(second.compressed).toBe(true);
    expect(second.checksum).toBe(first.checksum);
    expect(await readdir(`${layout.objects}/${first.checksum.slice(0, 2)}`)).toHaveLength(1);
  });

  it('writes a damaged object again instead of reusing it for new content', async () => {
    const { objects } = await objectStore();
    const bytes = Buffer.from(JSON.stringify({ spec: 'x'.repeat(3000) }));
    const first = await objects.write(bytes, true);
    // What a crash of the machine can leave: the name, without the flushed data.
    await writeFile(objects.pathOf(first.checksum), Buffer.alloc(0));
    const second = await objects.write(bytes, true);
    expect(second.dirsToSync).not.toEqual([]);
    expect(await objects.read(first.checksum)).toEqual(bytes);
  });

  it('leaves no temporary files behind', async () => {
    const { objects, layout } = await objectStore();
    await objects.write(Buffer.from('1'), false);
    expect(await readdir(layout.tmp)).toEqual([]);
  });

  it('refuses a flipped bit, a truncated gzip stream and a missing object with IntegrityError naming the path', async () => {
    const { objects } = await objectStore();
    const plain = await objects.write(Buffer.from('{"a":1}'), false);
    const packed = await objects.write(Buffer.from(JSON.stringify({ b: 'y'.repeat(4000) })), true);

    const plainPath = objects.pathOf(plain.checksum);
    await writeFile(plainPath, '{"a":2}');
    await expect(objects.read(plain.checksum, 'k_2025-01-01T00:00:00.000Z')).rejects.toThrow(IntegrityError);
    await expect(objects.read(plain.checksum)).rejects.toThrow(plainPath);

    const packedPath = objects.pathOf(packed.checksum);
    const gz = await readFile(packedPath);
    await writeFile(packedPath, gz.subarray(0, gz.length - 9));
    await expect(objects.read(packed.checksum)).rejects.toThrow(/not a valid gzip stream|corrupt/);

    await expect(objects.read('0'.repeat(64))).rejects.toThrow(/missing/);
  });
});

describe('object durability', () => {
  it('fsyncs objects/ at the commit of an object whose fan-out directory another object created, when that one could not fsync objects/', async () => {
    const root = await tempProject();
    const layout = storeLayout(root, '.ae');
    await openStore(nodeFs, layout);
    // The first fsync of objects/ itself fails (EIO); every other call goes through.
    let failed = false;
    const fs: StoreFs = {
      ...nodeFs,
      open: (async (path: string, ...rest: unknown[]) => {
        const handle = await (nodeFs.open as (p: string, ...r: unknown[]) => ReturnType<StoreFs['open']>)(path, ...rest);
        if (path !== layout.objects || failed) return handle;
        return Object.assign(Object.create(Object.getPrototypeOf(handle) as object) as object, handle, {
          sync: async () => {
            failed = true;
            throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
          },
        });
      }) as StoreFs['open'],
    };
    const objects = new ObjectStore(fs, layout);
    const first = Buffer.from('{"n":"first"}');
    const fanout = sha256Hex(first).slice(0, 2);
    let second = Buffer.from('{"n":0}');
    for (let i = 1; sha256Hex(second).slice(0, 2) !== fanout; i++) second = Buffer.from(`{"n":${i}}`);
    const a = await objects.write(first, false);
    const b = await objects.write(second, false);
    // The first object created the fan-out directory, and its fsync of objects/ failed.
    expect(a.dirsToSync).toContain(layout.objects);
    expect(b.dirsToSync).not.toContain(layout.objects);
    await objects.syncObjectFiles([a.checksum]);
    expect(failed).toBe(true);
    // The second one's own fsyncs all succeeded, yet its commit must make objects/ durable too.
    const { dirs } = await objects.syncObjectFiles([b.checksum]);
    expect(dirs).toContain(layout.objects);
  });
});
