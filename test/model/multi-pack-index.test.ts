import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketByteRange,
  bucketOf,
  checkBucket,
  checkTable,
  decodeMultiPackIndex,
  decodeMultiPackIndexHead,
  encodeMultiPackIndex,
  extendMultiPackIndex,
  lookupMultiPackIndex,
  multiPackIndexEntries,
  sealMultiPackIndex,
  tableByteRange,
  type MultiPackIndex,
} from '../../src/model/multi-pack-index.js';
import type { PackEntry } from '../../src/model/pack-index.js';

const hex = (seed: string) => createHash('sha256').update(seed).digest('hex');

/** `packCount` packs of `perPack` objects each, offsets as a pack writer lays them out. */
function packsOf(packCount: number, perPack: number): Map<string, PackEntry[]> {
  const packs = new Map<string, PackEntry[]>();
  for (let p = 0; p < packCount; p++) {
    let offset = 8;
    packs.set(
      hex(`pack ${p}`),
      Array.from({ length: perPack }, (_, i) => {
        const entry = { checksum: hex(`object ${p}.${i}`), offset, length: 100 + i };
        offset += entry.length;
        return entry;
      }),
    );
  }
  return packs;
}

const decoded = (bytes: Buffer): MultiPackIndex => {
  const index = decodeMultiPackIndex(bytes);
  if (typeof index === 'string') throw new Error(index);
  return index;
};

const PREFIX = 16 + 1024 + 256 * 32;
const TABLE = 16 * 4 + 16 * 32;
const tablesStartOf = (bytes: Buffer) => PREFIX + bytes.readUInt32BE(8) * 32 + 16 + 32;
const entriesStartOf = (bytes: Buffer) => tablesStartOf(bytes) + 256 * TABLE;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

/** Rewrites every bucket digest, table digest and the head's digest after an edit, as a faulty writer would leave them. */
function resealed(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  const tablesAt = tablesStartOf(copy);
  const entriesAt = entriesStartOf(copy);
  for (let b = 0, first = 0; b < 256; b++) {
    const table = copy.subarray(tablesAt + b * TABLE, tablesAt + (b + 1) * TABLE);
    for (let s = 0, inSlot = 0; s < 16; s++) {
      const upTo = table.readUInt32BE(s * 4);
      sha256(copy.subarray(entriesAt + (first + inSlot) * 52, entriesAt + (first + upTo) * 52)).copy(table, 64 + s * 32);
      inSlot = upTo;
    }
    sha256(table).copy(copy, 16 + 1024 + b * 32);
    first = copy.readUInt32BE(16 + b * 4);
  }
  sha256(copy.subarray(0, tablesAt - 32)).copy(copy, tablesAt - 32);
  return copy;
}

/** Checks, as a reader does on first use, the table and the bucket of `checksum` in a file. */
function readBucketOf(bytes: Buffer, checksum: string): Buffer | string {
  const index = decodeMultiPackIndexHead(bytes, bytes.length);
  if (typeof index === 'string') return index;
  const n = parseInt(checksum.slice(0, 3), 16);
  const table = tableByteRange(index, n >> 4);
  const checked = checkTable(index, n >> 4, bytes.subarray(table.position, table.position + table.length));
  if (typeof checked === 'string') return checked;
  const { position, length } = bucketByteRange(index, n);
  return checkBucket(index, n, bytes.subarray(position, position + length));
}

describe('multi-pack index codec', () => {
  it('finds every object of many packs in its own pack, at its offset and length', () => {
    const packs = packsOf(100, 100);
    const index = decoded(encodeMultiPackIndex(packs).bytes);
    expect(index.packs).toEqual([...packs.keys()].sort());
    expect(index.count).toBe(10_000);
    for (const [packHash, entries] of packs) {
      for (const entry of entries) expect(lookupMultiPackIndex(index, entry.checksum)).toEqual({ ...entry, packHash });
    }
    expect(lookupMultiPackIndex(index, hex('not stored'))).toBeNull();
  });

  it('lists what it was given, each object once, whatever the packs and their order', () => {
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(fc.nat(50), { maxLength: 20 }), { maxLength: 6 }), (layout) => {
        const packs = new Map(layout.map((objects, p) => [hex(`p${p}`), objects.map((o, i) => ({ checksum: hex(`o${o}`), offset: 8 + i, length: 1 }))]));
        const entries = multiPackIndexEntries(decoded(encodeMultiPackIndex(packs).bytes));
        if (typeof entries === 'string') throw new Error(entries);
        const expected = new Set([...packs.values()].flat().map((e) => e.checksum));
        expect(entries.map((e) => e.checksum)).toEqual([...expected].sort());
        // Each entry points into a pack that holds it, at its place there.
        for (const entry of entries) expect(packs.get(entry.packHash)).toContainEqual({ checksum: entry.checksum, offset: entry.offset, length: entry.length });
      }),
    );
  });

  it('extended with more packs, finds every object of old and new packs, as one built from all of them does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.nat(60), { maxLength: 15 }), { maxLength: 5 }),
        fc.array(fc.uniqueArray(fc.nat(60), { maxLength: 15 }), { maxLength: 5 }),
        (before, after) => {
          const packsOfLayout = (layout: number[][], tag: string) =>
            new Map(layout.map((objects, p) => [hex(`${tag}${p}`), objects.map((o, i) => ({ checksum: hex(`o${o}`), offset: 8 + i * 3, length: 3 }))]));
          const old = packsOfLayout(before, 'old');
          const added = packsOfLayout(after, 'new');
          // As read back from disk: nothing checked yet.
          const extended = extendMultiPackIndex(decoded(encodeMultiPackIndex(old).bytes), added);
          const reread = decoded(extended.bytes);
          const all = new Map([...old, ...added]);
          expect(reread.packs).toEqual([...all.keys()].sort());
          const entries = multiPackIndexEntries(reread);
          if (typeof entries === 'string') throw new Error(entries);
          expect(entries.map((e) => e.checksum)).toEqual([...new Set([...all.values()].flat().map((e) => e.checksum))].sort());
          for (const entry of entries) expect(all.get(entry.packHash)).toContainEqual({ checksum: entry.checksum, offset: entry.offset, length: entry.length });
        },
      ),
    );
  });

  it('places a checksum in the bucket of its first three hex digits, and anything else in none', () => {
    expect(bucketOf('0'.repeat(64))).toBe(0);
    expect(bucketOf('0ff' + '0'.repeat(61))).toBe(255);
    expect(bucketOf('f'.repeat(64))).toBe(4095);
    // Not a checksum: no bucket (a NaN bucket would count toward an index read whole).
    for (const bad of ['zz' + '0'.repeat(62), 'F'.repeat(64), '0'.repeat(63), '', '-1' + '0'.repeat(62)]) expect(bucketOf(bad)).toBe(-1);
  });

  it('is 156,736 bytes, plus 32 per pack and 52 per object', () => {
    expect(encodeMultiPackIndex(packsOf(3, 5)).bytes).toHaveLength(156_736 + 3 * 32 + 15 * 52);
    expect(encodeMultiPackIndex(new Map()).bytes).toHaveLength(156_736);
  });

  it('is sealed with the device and inode of its file, which its head then names under a new digest', () => {
    const { bytes } = encodeMultiPackIndex(packsOf(2, 3));
    expect(decoded(bytes).file).toEqual({ dev: 0, ino: 0 });
    const sealed = sealMultiPackIndex(bytes, { dev: 2049, ino: 2 ** 40 + 3 });
    expect(sealed.bytes).toHaveLength(bytes.length);
    const index = decoded(sealed.bytes);
    expect(index.file).toEqual({ dev: 2049, ino: 2 ** 40 + 3 });
    expect(index.id).toBe(sealed.id);
    expect(index.id).not.toBe(decoded(bytes).id);
    expect(multiPackIndexEntries(index)).toEqual(multiPackIndexEntries(decoded(bytes)));
  });

  it('is read by its head, a table and one bucket: a lookup finds its object from those bytes alone', () => {
    const packs = packsOf(20, 500);
    const { bytes } = encodeMultiPackIndex(packs);
    const [packHash, entries] = [...packs][7]!;
    const wanted = entries[3]!;
    const head = decoded(bytes);
    const index = decodeMultiPackIndexHead(bytes.subarray(0, tablesStartOf(bytes)), bytes.length);
    if (typeof index === 'string') throw new Error(index);
    expect(index.id).toBe(head.id);
    expect(() => lookupMultiPackIndex(index, wanted.checksum)).toThrow(/was not read/);
    const n = parseInt(wanted.checksum.slice(0, 3), 16);
    // A bucket is placed by its slot's table only.
    expect(() => bucketByteRange(index, n)).toThrow(/table of fan-out slot/);
    const table = tableByteRange(index, n >> 4);
    expect(checkTable(index, n >> 4, bytes.subarray(table.position, table.position + table.length))).toBeInstanceOf(Buffer);
    const { position, length } = bucketByteRange(index, n);
    // 10,000 objects in 4,096 buckets: a bucket holds a few of them.
    expect(length).toBeGreaterThan(0);
    expect(length).toBeLessThan(20 * 52);
    expect(checkBucket(index, n, bytes.subarray(position, position + length))).toBeInstanceOf(Buffer);
    expect(lookupMultiPackIndex(index, wanted.checksum)).toEqual({ ...wanted, packHash });
    // The table and the bucket of another file (a rewrite since the head was read) do not pass for this one's.
    const other = encodeMultiPackIndex(packsOf(21, 500)).bytes;
    const otherIndex = decoded(other);
    const otherTable = tableByteRange(otherIndex, n >> 4);
    expect(checkTable(decoded(bytes), n >> 4, other.subarray(otherTable.position, otherTable.position + otherTable.length))).toMatch(/digest of its fan-out slot/);
    const range = bucketByteRange(otherIndex, n);
    expect(checkBucket(decoded(bytes), n, other.subarray(range.position, range.position + range.length))).toMatch(/digest of its bucket/);
  });

  it('refuses a flipped bit in its head, its tables or its entries, and a truncation', () => {
    const { bytes } = encodeMultiPackIndex(packsOf(2, 3));
    const tablesAt = tablesStartOf(bytes);
    const entriesAt = entriesStartOf(bytes);
    // Every byte of the head and of the entries; of the tables, each count and digest of the slots that hold objects, and the first and last byte of every other table.
    const slots = new Set(multiPackIndexEntries(decoded(bytes)).map((e) => parseInt(e.checksum.slice(0, 2), 16)));
    const offsets: number[] = [];
    for (let at = 0; at < tablesAt; at++) offsets.push(at);
    for (let b = 0; b < 256; b++) {
      const at = tablesAt + b * TABLE;
      if (slots.has(b)) for (let s = 0; s < 16; s++) offsets.push(at + s * 4 + 3, at + 64 + s * 32, at + 64 + s * 32 + 31);
      else offsets.push(at, at + TABLE - 1);
    }
    for (let at = entriesAt; at < bytes.length; at++) offsets.push(at);
    for (const at of offsets) {
      const flipped = Buffer.from(bytes);
      flipped[at]! ^= 0x04;
      expect(typeof decodeMultiPackIndex(flipped)).toBe('string');
    }
    expect(decodeMultiPackIndex(bytes.subarray(0, bytes.length - 1))).toMatch(/bytes, not the size/);
    expect(decodeMultiPackIndex(Buffer.from('AEIX'))).toMatch(/not a multi-pack index/);
  });

  it('refuses a file of the version before, whose buckets were whole fan-out slots', () => {
    const bytes = Buffer.from(encodeMultiPackIndex(packsOf(1, 10)).bytes);
    bytes.writeUInt32BE(2, 4);
    expect(decodeMultiPackIndex(resealed(bytes))).toBe('has version 2, not 3');
  });

  it('refuses a bucket whose entries are out of order, name no pack or lie outside it, even behind digests that match', () => {
    const packs = packsOf(1, 2000);
    const { bytes } = encodeMultiPackIndex(packs);
    const entriesAt = entriesStartOf(bytes);
    // Two neighbours of one bucket swapped.
    const entries = multiPackIndexEntries(decoded(bytes));
    const i = entries.findIndex((e, n) => n > 0 && e.checksum.slice(0, 3) === entries[n - 1]!.checksum.slice(0, 3));
    expect(i).toBeGreaterThan(0);
    const swapped = Buffer.from(bytes);
    bytes.copy(swapped, entriesAt + (i - 1) * 52, entriesAt + i * 52, entriesAt + (i + 1) * 52);
    bytes.copy(swapped, entriesAt + i * 52, entriesAt + (i - 1) * 52, entriesAt + i * 52);
    expect(readBucketOf(resealed(swapped), entries[i]!.checksum)).toBe('lists its objects out of order');
    expect(decodeMultiPackIndex(resealed(swapped))).toBe('lists its objects out of order');
    // Two neighbours of one slot but of different buckets swapped: each is listed in the other's bucket.
    const j = entries.findIndex((e, n) => n > 0 && e.checksum.slice(0, 2) === entries[n - 1]!.checksum.slice(0, 2) && e.checksum[2] !== entries[n - 1]!.checksum[2]);
    expect(j).toBeGreaterThan(0);
    const crossed = Buffer.from(bytes);
    bytes.copy(crossed, entriesAt + (j - 1) * 52, entriesAt + j * 52, entriesAt + (j + 1) * 52);
    bytes.copy(crossed, entriesAt + j * 52, entriesAt + (j - 1) * 52, entriesAt + j * 52);
    expect(readBucketOf(resealed(crossed), entries[j]!.checksum)).toMatch(/^lists object [0-9a-f]{64} in bucket \d+$/);
    // An entry naming pack 7 of 1.
    const badPack = Buffer.from(bytes);
    badPack.writeUInt32BE(7, entriesAt + 32);
    expect(readBucketOf(resealed(badPack), entries[0]!.checksum)).toBe('names pack 7 of 1');
    // An object placed over the pack header.
    const badOffset = Buffer.from(bytes);
    badOffset.writeUInt32BE(3, entriesAt + 40);
    expect(readBucketOf(resealed(badOffset), entries[0]!.checksum)).toMatch(/outside its pack/);
  });

  it('refuses a fan-out, or a table of a fan-out slot, that does not add up to its entries', () => {
    const bytes = Buffer.from(encodeMultiPackIndex(packsOf(1, 10)).bytes);
    const wrongFanout = Buffer.from(bytes);
    wrongFanout.writeUInt32BE(11, 16 + 255 * 4);
    expect(decodeMultiPackIndex(resealed(wrongFanout))).toMatch(/fan-out that does not add up/);
    // The last count of a slot's table must be the slot's size, and counts never fall.
    const slot = parseInt(multiPackIndexEntries(decoded(bytes))[0]!.checksum.slice(0, 2), 16);
    const tableAt = tablesStartOf(bytes) + slot * TABLE;
    const short = Buffer.from(bytes);
    short.writeUInt32BE(short.readUInt32BE(tableAt + 15 * 4) + 1, tableAt + 15 * 4);
    expect(decodeMultiPackIndex(resealed(short))).toBe(`has a table for fan-out slot ${slot} that does not add up to its entries`);
    const falling = Buffer.from(bytes);
    falling.writeUInt32BE(5, tableAt);
    falling.writeUInt32BE(0, tableAt + 4);
    expect(decodeMultiPackIndex(resealed(falling))).toBe(`has a table for fan-out slot ${slot} that does not add up to its entries`);
  });
});
