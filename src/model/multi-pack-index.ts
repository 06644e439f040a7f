/**
 * The byte layout of the multi-pack index (`local/multi-pack-index`, see
 * docs/FORMAT.md, "Packs"): one file naming a set of packs and every object
 * in them, so that a process finds an object with three small reads instead
 * of reading every pack's index. Pure: encoding, decoding with every check a
 * reader makes before it trusts what it read, and lookup.
 *
 * The objects are grouped by the first 12 bits of their checksum into 4,096
 * buckets, 16 to each of the 256 fan-out slots of the first byte. A process
 * reads the file's head (header, fan-out, one digest per fan-out slot, the
 * packs, and the head's own digest), then the slot's table (where each of
 * its 16 buckets starts, and each bucket's digest), checked against the
 * slot's digest in the head, and then only the bucket of the object it looks
 * for, checked against the table: at a million packed objects the file is
 * some 52 MB, a fan-out slot some 200 KB and a bucket some 13 KB. A lookup
 * of a new checksum (every save asks whether its object is stored already)
 * reads and checks one bucket, so its cost grows with the store 16 times
 * slower than it would with one bucket per slot.
 *
 * The index is a cache built from pack indexes that verified: a head, a
 * table or a bucket that does not check out is never used, and the bytes an
 * entry leads to are verified against their checksum like any object's.
 */
import { createHash } from 'node:crypto';
import { PACK_HEADER_SIZE, type PackEntry } from './pack-index.js';

export const MULTI_INDEX_MAGIC = Buffer.from('AEMX', 'latin1');
export const MULTI_INDEX_VERSION = 3;
/** Magic, version, pack count, entry count. */
const HEADER_SIZE = 16;
/** 256 counts, u32: entry `fanout[b]` is how many objects' checksums start with a byte at most `b`. */
const FANOUT_SIZE = 256 * 4;
/** 256 sha256 digests, one per fan-out slot, of that slot's table. */
const TABLE_DIGESTS_SIZE = 256 * 32;
const PACK_ROW_SIZE = 32;
/** The device and inode of the file itself, f64 each, as Node's stat gives them. */
const FILE_IDENTITY_SIZE = 16;
const DIGEST_SIZE = 32;
/** Buckets per fan-out slot: by the high 4 bits of the checksum's second byte. */
const BUCKETS_PER_SLOT = 16;
/** Every bucket, by the first 12 bits of a checksum. */
export const MULTI_INDEX_BUCKETS = 256 * BUCKETS_PER_SLOT;
/** A slot's table: for each of its 16 buckets how many of the slot's objects are in it or before it (u32), then each bucket's sha256. */
const TABLE_SIZE = BUCKETS_PER_SLOT * 4 + BUCKETS_PER_SLOT * DIGEST_SIZE;
const TABLES_SIZE = 256 * TABLE_SIZE;
/** Checksum (32), pack number (u32), offset (u64), length (u64). */
const ENTRY_SIZE = 52;
/** What a reader reads first: enough to learn the pack count, and so the length of the head. */
export const MULTI_INDEX_PREFIX_SIZE = HEADER_SIZE + FANOUT_SIZE + TABLE_DIGESTS_SIZE;

/** The sha256 of no bytes: the digest of every empty bucket, which most are in a small store. */
const EMPTY_DIGEST = Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex');
const NO_ENTRIES = Buffer.alloc(0);

function sha256(bytes: Buffer): Buffer {
  return bytes.length === 0 ? EMPTY_DIGEST : createHash('sha256').update(bytes).digest();
}

export interface MultiPackEntry extends PackEntry {
  packHash: string;
}

export interface MultiPackIndex {
  /** The packs it names, by hash, ascending. */
  packs: string[];
  /** Objects listed. */
  count: number;
  /** The digest of its head, which names this file's content (every table digest is in the head). */
  id: string;
  /** The device and inode of the file it was written as (0, 0 before it is sealed, see `sealMultiPackIndex`). */
  file: { dev: number; ino: number };
  /** Where the slots' tables start in the file. */
  tablesAt: number;
  /** Where its entries start in the file. */
  entriesAt: number;
  fanout: Uint32Array;
  tableDigests: Buffer;
  /** The tables of the fan-out slots read and checked so far. */
  tables: Map<number, Buffer>;
  /** The entry bytes of the buckets (0–4,095) read and checked so far. */
  buckets: Map<number, Buffer>;
}

/**
 * The multi-pack index of `packs` (pack hash to its entries), with the
 * bytes of its file. An object in several packs is listed once, in one of
 * them: once a reader has listed the packs it uses the index only while
 * every pack it names is present, and before that only to read and verify
 * an object's bytes (listing when the pack fails to open), so any copy will do.
 */
export function encodeMultiPackIndex(packs: ReadonlyMap<string, readonly PackEntry[]>): { index: MultiPackIndex; bytes: Buffer } {
  return extendMultiPackIndex(null, packs);
}

/**
 * `base` (null for none; every bucket of it read) naming the `added` packs
 * too. The entries of `base` are copied as bytes, bucket by bucket, beside
 * the new ones (which are few: the packs published since `base` was
 * written), so that a store of a million packed objects is not decoded
 * object by object whenever a few packs arrive.
 */
export function extendMultiPackIndex(base: MultiPackIndex | null, added: ReadonlyMap<string, readonly PackEntry[]>): { index: MultiPackIndex; bytes: Buffer } {
  if (base !== null && base.buckets.size < MULTI_INDEX_BUCKETS) throw new Error('a multi-pack index is extended only once every bucket of it was read');
  const basePacks = new Set(base?.packs ?? []);
  const hashes = [...new Set([...basePacks, ...added.keys()])].sort();
  const numberOf = new Map(hashes.map((hash, i) => [hash, i]));
  const renumbered = (base?.packs ?? []).map((hash) => numberOf.get(hash)!);
  const fresh: Array<Array<{ checksum: Buffer; pack: number; entry: PackEntry }>> = Array.from({ length: MULTI_INDEX_BUCKETS }, () => []);
  const seen = new Set<string>();
  for (const [hash, entries] of added) {
    if (basePacks.has(hash)) continue;
    for (const entry of entries) {
      if (seen.has(entry.checksum)) continue;
      const checksum = Buffer.from(entry.checksum, 'hex');
      const n = bucketOfBytes(checksum);
      if (base !== null && findInBucket(base.buckets.get(n)!, checksum).found) continue;
      seen.add(entry.checksum);
      fresh[n]!.push({ checksum, pack: numberOf.get(hash)!, entry });
    }
  }
  const buckets = new Map<number, Buffer>();
  for (let n = 0; n < MULTI_INDEX_BUCKETS; n++) {
    const own = base?.buckets.get(n) ?? NO_ENTRIES;
    const news = fresh[n]!;
    if (own.length === 0 && news.length === 0) {
      buckets.set(n, NO_ENTRIES);
      continue;
    }
    const copied = Buffer.from(own);
    // Pack numbers follow the new pack list.
    for (let at = 0; at < copied.length; at += ENTRY_SIZE) copied.writeUInt32BE(renumbered[copied.readUInt32BE(at + 32)]!, at + 32);
    news.sort((x, y) => x.checksum.compare(y.checksum));
    const merged = Buffer.alloc(copied.length + news.length * ENTRY_SIZE);
    let from = 0;
    let to = 0;
    for (const item of news) {
      const upTo = findInBucket(copied, item.checksum).index * ENTRY_SIZE;
      to += copied.copy(merged, to, from, upTo);
      from = upTo;
      item.checksum.copy(merged, to);
      merged.writeUInt32BE(item.pack, to + 32);
      merged.writeBigUInt64BE(BigInt(item.entry.offset), to + 36);
      merged.writeBigUInt64BE(BigInt(item.entry.length), to + 44);
      to += ENTRY_SIZE;
    }
    copied.copy(merged, to, from);
    buckets.set(n, merged);
  }
  return layOut(hashes, buckets);
}

function layOut(packs: string[], buckets: Map<number, Buffer>): { index: MultiPackIndex; bytes: Buffer } {
  let count = 0;
  const head = Buffer.alloc(MULTI_INDEX_PREFIX_SIZE + packs.length * PACK_ROW_SIZE + FILE_IDENTITY_SIZE + DIGEST_SIZE);
  const tables = Buffer.alloc(TABLES_SIZE);
  for (let b = 0; b < 256; b++) {
    const table = tables.subarray(b * TABLE_SIZE, (b + 1) * TABLE_SIZE);
    for (let s = 0, inSlot = 0; s < BUCKETS_PER_SLOT; s++) {
      const entries = buckets.get(b * BUCKETS_PER_SLOT + s)!;
      inSlot += entries.length / ENTRY_SIZE;
      table.writeUInt32BE(inSlot, s * 4);
      sha256(entries).copy(table, BUCKETS_PER_SLOT * 4 + s * DIGEST_SIZE);
      count += entries.length / ENTRY_SIZE;
    }
    head.writeUInt32BE(count, HEADER_SIZE + b * 4);
    createHash('sha256').update(table).digest().copy(head, HEADER_SIZE + FANOUT_SIZE + b * DIGEST_SIZE);
  }
  MULTI_INDEX_MAGIC.copy(head, 0);
  head.writeUInt32BE(MULTI_INDEX_VERSION, 4);
  head.writeUInt32BE(packs.length, 8);
  head.writeUInt32BE(count, 12);
  packs.forEach((hash, i) => head.write(hash, MULTI_INDEX_PREFIX_SIZE + i * PACK_ROW_SIZE, 'hex'));
  const digestAt = head.length - DIGEST_SIZE;
  createHash('sha256').update(head.subarray(0, digestAt)).digest().copy(head, digestAt);
  const index = decodeMultiPackIndexHead(head);
  if (typeof index === 'string') throw new Error(`multi-pack index laid out wrong: ${index}`);
  for (let b = 0; b < 256; b++) index.tables.set(b, tables.subarray(b * TABLE_SIZE, (b + 1) * TABLE_SIZE));
  for (const [n, entries] of buckets) index.buckets.set(n, entries);
  return { index, bytes: Buffer.concat([head, tables, ...Array.from({ length: MULTI_INDEX_BUCKETS }, (_, n) => buckets.get(n)!)]) };
}

/** How many bytes the head takes, from the first `MULTI_INDEX_PREFIX_SIZE` bytes of the file; why not, when they are not of a multi-pack index. */
export function headLengthOf(prefix: Buffer): number | string {
  if (prefix.length < MULTI_INDEX_PREFIX_SIZE || !prefix.subarray(0, 4).equals(MULTI_INDEX_MAGIC)) return 'is not a multi-pack index';
  const version = prefix.readUInt32BE(4);
  if (version !== MULTI_INDEX_VERSION) return `has version ${version}, not ${MULTI_INDEX_VERSION}`;
  return MULTI_INDEX_PREFIX_SIZE + prefix.readUInt32BE(8) * PACK_ROW_SIZE + FILE_IDENTITY_SIZE + DIGEST_SIZE;
}

/**
 * The bytes of a multi-pack index to be written as the file whose device and
 * inode are `file` (the temporary file it is renamed from keeps them), with
 * the head digest computed again. A reader uses a file only when it is the
 * one it names: a copy, or one a clone brought, is written again from the
 * packs' own indexes rather than trusted.
 */
export function sealMultiPackIndex(bytes: Buffer, file: { dev: number; ino: number }): { bytes: Buffer; id: string } {
  const length = headLengthOf(bytes);
  if (typeof length === 'string') throw new Error(`not a multi-pack index: ${length}`);
  const sealed = Buffer.from(bytes);
  const digestAt = length - DIGEST_SIZE;
  sealed.writeDoubleBE(file.dev, digestAt - FILE_IDENTITY_SIZE);
  sealed.writeDoubleBE(file.ino, digestAt - FILE_IDENTITY_SIZE + 8);
  createHash('sha256').update(sealed.subarray(0, digestAt)).digest().copy(sealed, digestAt);
  return { bytes: sealed, id: sealed.toString('hex', digestAt, length) };
}

/**
 * Decodes the head of a multi-pack index and checks it: magic, version, its
 * own digest, the fan-out rising to the entry count, the packs sorted and
 * unique, and (given the file's size) that the entries end where the file
 * does. Answers the index with no table or bucket read yet, or why it cannot be trusted.
 */
export function decodeMultiPackIndexHead(head: Buffer, fileSize?: number): MultiPackIndex | string {
  const length = headLengthOf(head);
  if (typeof length === 'string') return length;
  if (head.length < length) return 'is cut short in its head';
  const digestAt = length - DIGEST_SIZE;
  if (!createHash('sha256').update(head.subarray(0, digestAt)).digest().equals(head.subarray(digestAt, length))) return 'does not match the digest of its head';
  const count = head.readUInt32BE(12);
  if (fileSize !== undefined && fileSize !== length + TABLES_SIZE + count * ENTRY_SIZE) return `is ${fileSize} bytes, not the size its head gives`;
  const fanout = new Uint32Array(256);
  for (let b = 0, before = 0; b < 256; b++) {
    const upTo = head.readUInt32BE(HEADER_SIZE + b * 4);
    if (upTo < before || (b === 255 && upTo !== count)) return 'has a fan-out that does not add up to its entries';
    fanout[b] = before = upTo;
  }
  const packs: string[] = [];
  for (let i = 0; i < head.readUInt32BE(8); i++) {
    const at = MULTI_INDEX_PREFIX_SIZE + i * PACK_ROW_SIZE;
    // `compare` weighs this row (the source range) against the one before it.
    if (i > 0 && head.compare(head, at - PACK_ROW_SIZE, at, at, at + PACK_ROW_SIZE) <= 0) return 'lists its packs out of order';
    packs.push(head.toString('hex', at, at + PACK_ROW_SIZE));
  }
  return {
    packs,
    count,
    id: head.toString('hex', digestAt, length),
    file: { dev: head.readDoubleBE(digestAt - FILE_IDENTITY_SIZE), ino: head.readDoubleBE(digestAt - FILE_IDENTITY_SIZE + 8) },
    tablesAt: length,
    entriesAt: length + TABLES_SIZE,
    fanout,
    tableDigests: Buffer.from(head.subarray(HEADER_SIZE + FANOUT_SIZE, MULTI_INDEX_PREFIX_SIZE)),
    tables: new Map(),
    buckets: new Map(),
  };
}

/** A whole multi-pack index file: its head, and every table and bucket checked. */
export function decodeMultiPackIndex(bytes: Buffer): MultiPackIndex | string {
  const index = decodeMultiPackIndexHead(bytes, bytes.length);
  if (typeof index === 'string') return index;
  for (let b = 0; b < 256; b++) {
    const table = tableByteRange(index, b);
    const checkedTable = checkTable(index, b, bytes.subarray(table.position, table.position + table.length));
    if (typeof checkedTable === 'string') return checkedTable;
    for (let n = b * BUCKETS_PER_SLOT; n < (b + 1) * BUCKETS_PER_SLOT; n++) {
      const { position, length } = bucketByteRange(index, n);
      const checked = checkBucket(index, n, bytes.subarray(position, position + length));
      if (typeof checked === 'string') return checked;
    }
  }
  return index;
}

/** Where the table of fan-out slot `b` is in the file. */
export function tableByteRange(index: MultiPackIndex, b: number): { position: number; length: number } {
  return { position: index.tablesAt + b * TABLE_SIZE, length: TABLE_SIZE };
}

/**
 * Checks the bytes read for the table of fan-out slot `b` (its digest, and
 * counts that never fall and end at the slot's size) and keeps them in the
 * index; or says what is wrong.
 */
export function checkTable(index: MultiPackIndex, b: number, table: Buffer): Buffer | string {
  const expected = index.tableDigests.subarray(b * DIGEST_SIZE, (b + 1) * DIGEST_SIZE);
  if (table.length !== TABLE_SIZE || !createHash('sha256').update(table).digest().equals(expected)) return `does not match the digest of its fan-out slot ${b}`;
  const inSlot = index.fanout[b]! - (b === 0 ? 0 : index.fanout[b - 1]!);
  for (let s = 0, before = 0; s < BUCKETS_PER_SLOT; s++) {
    const upTo = u32(table, s * 4);
    if (upTo < before || (s === BUCKETS_PER_SLOT - 1 && upTo !== inSlot)) return `has a table for fan-out slot ${b} that does not add up to its entries`;
    before = upTo;
  }
  const kept = Buffer.from(table);
  index.tables.set(b, kept);
  return kept;
}

/** Where bucket `n`'s entries are in the file; the table of its fan-out slot must have been read. */
export function bucketByteRange(index: MultiPackIndex, n: number): { position: number; length: number } {
  const b = slotOf(n);
  const s = n & 15;
  const table = index.tables.get(b);
  if (table === undefined) throw new Error(`the table of fan-out slot ${b} of the multi-pack index was not read`);
  const slotFirst = b === 0 ? 0 : index.fanout[b - 1]!;
  const first = slotFirst + (s === 0 ? 0 : u32(table, (s - 1) * 4));
  const end = slotFirst + u32(table, s * 4);
  return { position: index.entriesAt + first * ENTRY_SIZE, length: (end - first) * ENTRY_SIZE };
}

/**
 * Checks the bytes read for bucket `n` (its digest in its slot's table, then
 * each entry: first 12 bits `n`, sorted and unique, pack number in range,
 * offset and length possible) and keeps them in the index; or says what is
 * wrong: a file replaced since its head was read, damage, or a faulty writer.
 */
export function checkBucket(index: MultiPackIndex, n: number, entries: Buffer): Buffer | string {
  const table = index.tables.get(slotOf(n));
  if (table === undefined) throw new Error(`the table of fan-out slot ${slotOf(n)} of the multi-pack index was not read`);
  const at = BUCKETS_PER_SLOT * 4 + (n & 15) * DIGEST_SIZE;
  const expected = table.subarray(at, at + DIGEST_SIZE);
  if (entries.length !== bucketByteRange(index, n).length || !sha256(entries).equals(expected)) {
    return `does not match the digest of its bucket ${n}`;
  }
  // Checked with plain reads, no object or string per entry.
  for (let at = 0; at < entries.length; at += ENTRY_SIZE) {
    if (bucketOfBytes(entries.subarray(at, at + 2)) !== n) return `lists object ${entries.toString('hex', at, at + 32)} in bucket ${n}`;
    if (at > 0 && !isAfterPrevious(entries, at)) return 'lists its objects out of order';
    const pack = u32(entries, at + 32);
    if (pack >= index.packs.length) return `names pack ${pack} of ${index.packs.length}`;
    // High words above 2^21 would put the offset or length past 2^53 bytes: no pack is that large.
    const [offsetHigh, offsetLow, lengthHigh, lengthLow] = [u32(entries, at + 36), u32(entries, at + 40), u32(entries, at + 44), u32(entries, at + 48)];
    if (offsetHigh > 0x1fffff || lengthHigh > 0x1fffff) return 'places an object past any pack';
    if ((offsetHigh === 0 && offsetLow < PACK_HEADER_SIZE) || (lengthHigh === 0 && lengthLow === 0)) {
      return `places object ${entries.toString('hex', at, at + 32)} outside its pack`;
    }
  }
  const kept = entries.length === 0 ? NO_ENTRIES : Buffer.from(entries);
  index.buckets.set(n, kept);
  return kept;
}

/** The big-endian u32 at `at`, read without a call into Buffer's bounds checks. */
function u32(bytes: Buffer, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Whether the checksum of the entry at `at` sorts strictly after the one before it. */
function isAfterPrevious(entries: Buffer, at: number): boolean {
  for (let i = 0; i < 32; i++) {
    const previous = entries[at - ENTRY_SIZE + i]!;
    const current = entries[at + i]!;
    if (current !== previous) return current > previous;
  }
  return false;
}

/** The bucket (0–4,095, the first 12 bits) of a checksum given as bytes (at least two). */
function bucketOfBytes(checksum: Uint8Array): number {
  return (checksum[0]! << 4) | (checksum[1]! >> 4);
}

const CHECKSUM = /^[0-9a-f]{64}$/;

/** The bucket a checksum (64 lower-case hex) is listed in: its first three hex digits; -1 for anything else, which no bucket lists. */
export function bucketOf(checksum: string): number {
  return CHECKSUM.test(checksum) ? parseInt(checksum.slice(0, 3), 16) : -1;
}

/** The fan-out slot of bucket `n`, whose table must be read before the bucket. */
export function slotOf(n: number): number {
  return n >> 4;
}

/** Where `checksum` is, by a search of its bucket, which must have been read; null when the index does not list it. */
export function lookupMultiPackIndex(index: MultiPackIndex, checksum: string): MultiPackEntry | null {
  const target = Buffer.from(checksum, 'hex');
  if (target.length !== 32) return null;
  const n = bucketOfBytes(target);
  const entries = index.buckets.get(n);
  if (entries === undefined) throw new Error(`bucket ${n} of the multi-pack index was not read`);
  const { index: at, found } = findInBucket(entries, target);
  return found ? entryAt(index, entries, at * ENTRY_SIZE) : null;
}

/** Every object the index lists, in checksum order; every bucket must have been read. */
export function multiPackIndexEntries(index: MultiPackIndex): MultiPackEntry[] {
  const all: MultiPackEntry[] = [];
  for (let n = 0; n < MULTI_INDEX_BUCKETS; n++) {
    const entries = index.buckets.get(n);
    if (entries === undefined) throw new Error(`bucket ${n} of the multi-pack index was not read`);
    for (let at = 0; at < entries.length; at += ENTRY_SIZE) all.push(entryAt(index, entries, at));
  }
  return all;
}

/** Where `target` (32 bytes) is or would go among a bucket's entries. */
function findInBucket(entries: Buffer, target: Buffer): { index: number; found: boolean } {
  let low = 0;
  let high = entries.length / ENTRY_SIZE;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const at = middle * ENTRY_SIZE;
    const order = target.compare(entries, at, at + 32);
    if (order === 0) return { index: middle, found: true };
    if (order < 0) high = middle;
    else low = middle + 1;
  }
  return { index: low, found: false };
}

function entryAt(index: MultiPackIndex, entries: Buffer, at: number): MultiPackEntry {
  return {
    checksum: entries.toString('hex', at, at + 32),
    packHash: index.packs[entries.readUInt32BE(at + 32)]!,
    offset: entries.readUInt32BE(at + 36) * 2 ** 32 + entries.readUInt32BE(at + 40),
    length: entries.readUInt32BE(at + 44) * 2 ** 32 + entries.readUInt32BE(at + 48),
  };
}
