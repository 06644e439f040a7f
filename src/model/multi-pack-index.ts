/**
 * The byte layout of the multi-pack index (`local/multi-pack-index`, see
 * docs/FORMAT.md, "Packs"): one file naming a set of packs and every object
 * in them, so that a process finds an object with one read and a binary
 * search instead of reading every pack's index. Pure: encoding, decoding
 * with every check a reader makes before it trusts the file, and lookup.
 *
 * The index is a cache built from pack indexes that verified: it is trusted
 * only whole (its trailing checksum, its order, its bounds), and the bytes
 * it leads to are verified against their checksum like any object's.
 */
import { createHash } from 'node:crypto';
import { PACK_HEADER_SIZE, type PackEntry } from './pack-index.js';

export const MULTI_INDEX_MAGIC = Buffer.from('AEMX', 'latin1');
export const MULTI_INDEX_VERSION = 1;
/** Magic, version, pack count, entry count. */
const HEADER_SIZE = 16;
/** 256 counts, u32: entry `fanout[b]` is how many objects' checksums start with a byte at most `b`. */
const FANOUT_SIZE = 256 * 4;
const PACK_ROW_SIZE = 32;
/** Checksum (32), pack number (u32), offset (u64), length (u64). */
const ENTRY_SIZE = 52;
const TRAILER_SIZE = 32;

export interface MultiPackEntry extends PackEntry {
  packHash: string;
}

export interface MultiPackIndex {
  /** The packs it names, by hash, ascending. */
  packs: string[];
  /** Objects listed. */
  count: number;
  /** The whole file, its checksum checked. */
  bytes: Buffer;
  /** Fan-out buckets whose entries were checked (order, first byte, pack numbers, bounds). */
  checkedBuckets: Set<number>;
}

/**
 * The multi-pack index of `packs` (pack hash to its entries), with the
 * bytes of its file. An object in several packs is listed once, in one of
 * them: a reader uses the index only while every pack it names is present,
 * so any copy will do.
 */
export function encodeMultiPackIndex(packs: ReadonlyMap<string, readonly PackEntry[]>): MultiPackIndex {
  return extendMultiPackIndex(null, packs);
}

/**
 * `base` (null for none) naming the `added` packs too. The entries of
 * `base` are copied as bytes, in runs, between the new ones (which are few:
 * the packs published since `base` was written), so that a store of a
 * million packed objects is not decoded object by object whenever a few
 * packs arrive. Buckets of `base` not checked yet stay unchecked.
 */
export function extendMultiPackIndex(base: MultiPackIndex | null, added: ReadonlyMap<string, readonly PackEntry[]>): MultiPackIndex {
  const basePacks = new Set(base?.packs ?? []);
  const hashes = [...new Set([...basePacks, ...added.keys()])].sort();
  const numberOf = new Map(hashes.map((hash, i) => [hash, i]));
  const fresh = new Map<string, { pack: number; entry: PackEntry }>();
  for (const [hash, entries] of added) {
    if (basePacks.has(hash)) continue;
    for (const entry of entries) {
      if (fresh.has(entry.checksum) || (base !== null && positionOf(base, Buffer.from(entry.checksum, 'hex')).found)) continue;
      fresh.set(entry.checksum, { pack: numberOf.get(hash)!, entry });
    }
  }
  const newChecksums = [...fresh.keys()].sort();
  const baseCount = base?.count ?? 0;
  const count = baseCount + newChecksums.length;
  const packsAt = HEADER_SIZE + FANOUT_SIZE;
  const entriesAt = packsAt + hashes.length * PACK_ROW_SIZE;
  const body = Buffer.alloc(entriesAt + count * ENTRY_SIZE);
  MULTI_INDEX_MAGIC.copy(body, 0);
  body.writeUInt32BE(MULTI_INDEX_VERSION, 4);
  body.writeUInt32BE(hashes.length, 8);
  body.writeUInt32BE(count, 12);
  hashes.forEach((hash, i) => body.write(hash, packsAt + i * PACK_ROW_SIZE, 'hex'));
  const perBucket = new Array<number>(256).fill(0);
  const renumbered = (base?.packs ?? []).map((hash) => numberOf.get(hash)!);
  const isSameNumbering = renumbered.every((number, i) => number === i);
  let written = 0;
  let copiedUpTo = 0;
  const copyBase = (end: number): void => {
    if (base === null || end === copiedUpTo) return;
    const baseAt = entriesStart(base);
    const to = entriesAt + written * ENTRY_SIZE;
    base.bytes.copy(body, to, baseAt + copiedUpTo * ENTRY_SIZE, baseAt + end * ENTRY_SIZE);
    // Pack numbers follow the new pack list; one out of range stays so, for the bucket's check to refuse.
    if (!isSameNumbering) {
      for (let at = to; at < to + (end - copiedUpTo) * ENTRY_SIZE; at += ENTRY_SIZE) body.writeUInt32BE(renumbered[body.readUInt32BE(at + 32)] ?? 0xffffffff, at + 32);
    }
    written += end - copiedUpTo;
    copiedUpTo = end;
  };
  for (const checksum of newChecksums) {
    const target = Buffer.from(checksum, 'hex');
    if (base !== null) copyBase(positionOf(base, target).index);
    const { pack, entry } = fresh.get(checksum)!;
    const at = entriesAt + written++ * ENTRY_SIZE;
    target.copy(body, at);
    body.writeUInt32BE(pack, at + 32);
    body.writeBigUInt64BE(BigInt(entry.offset), at + 36);
    body.writeBigUInt64BE(BigInt(entry.length), at + 44);
    perBucket[target[0]!]!++;
  }
  copyBase(baseCount);
  let total = 0;
  for (let b = 0; b < 256; b++) {
    const inBase = base === null ? 0 : bucketRange(base, b)[1] - bucketRange(base, b)[0];
    body.writeUInt32BE((total += perBucket[b]! + inBase), HEADER_SIZE + b * 4);
  }
  const bytes = Buffer.concat([body, createHash('sha256').update(body).digest()]);
  const checkedBuckets = new Set(Array.from({ length: 256 }, (_, b) => b).filter((b) => base === null || base.checkedBuckets.has(b) || bucketRange(base, b)[0] === bucketRange(base, b)[1]));
  return { packs: hashes, count, bytes, checkedBuckets };
}

/**
 * Decodes a multi-pack index and checks what a lookup relies on before it
 * reads an entry: magic, version, size, the trailing checksum, the fan-out
 * rising to the entry count, the packs sorted and unique. The entries of a
 * fan-out bucket (their order and first byte, pack numbers, offsets and
 * lengths) are checked when a lookup first reads that bucket, so that a
 * process finding one object does not walk every entry. Answers the index,
 * or why it cannot be trusted.
 */
export function decodeMultiPackIndex(bytes: Buffer): MultiPackIndex | string {
  if (bytes.length < HEADER_SIZE + FANOUT_SIZE + TRAILER_SIZE || !bytes.subarray(0, 4).equals(MULTI_INDEX_MAGIC)) return 'is not a multi-pack index';
  const version = bytes.readUInt32BE(4);
  if (version !== MULTI_INDEX_VERSION) return `has version ${version}, not ${MULTI_INDEX_VERSION}`;
  const packCount = bytes.readUInt32BE(8);
  const count = bytes.readUInt32BE(12);
  const packsAt = HEADER_SIZE + FANOUT_SIZE;
  const entriesAt = packsAt + packCount * PACK_ROW_SIZE;
  if (bytes.length !== entriesAt + count * ENTRY_SIZE + TRAILER_SIZE) return `is ${bytes.length} bytes, not the size ${packCount} packs and ${count} entries take`;
  const bodyLength = bytes.length - TRAILER_SIZE;
  if (!createHash('sha256').update(bytes.subarray(0, bodyLength)).digest().equals(bytes.subarray(bodyLength))) return 'does not match its checksum';
  for (let b = 0, before = 0; b < 256; b++) {
    const upTo = bytes.readUInt32BE(HEADER_SIZE + b * 4);
    if (upTo < before || (b === 255 && upTo !== count)) return 'has a fan-out that does not add up to its entries';
    before = upTo;
  }
  const packs: string[] = [];
  for (let i = 0; i < packCount; i++) {
    const at = packsAt + i * PACK_ROW_SIZE;
    // `compare` weighs this row (the source range) against the one before it.
    if (i > 0 && bytes.compare(bytes, at - PACK_ROW_SIZE, at, at, at + PACK_ROW_SIZE) <= 0) return 'lists its packs out of order';
    packs.push(bytes.toString('hex', at, at + PACK_ROW_SIZE));
  }
  return { packs, count, bytes, checkedBuckets: new Set() };
}

/**
 * Where `checksum` is, by a search of its fan-out bucket; null when the
 * index does not list it; why the index cannot be trusted when that
 * bucket's entries do not check out (the index is then dropped and rebuilt).
 */
export function lookupMultiPackIndex(index: MultiPackIndex, checksum: string): MultiPackEntry | null | string {
  const target = Buffer.from(checksum, 'hex');
  if (target.length !== 32) return null;
  const bucket = checkBucket(index, target[0]!);
  if (typeof bucket === 'string') return bucket;
  const [first, end] = bucket;
  const entriesAt = entriesStart(index);
  let low = first;
  let high = end - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = entriesAt + middle * ENTRY_SIZE;
    const order = target.compare(index.bytes, at, at + 32);
    if (order === 0) return entryAt(index, at);
    if (order < 0) high = middle - 1;
    else low = middle + 1;
  }
  return null;
}

/** Every object the index lists, in checksum order, or why the index cannot be trusted. */
export function multiPackIndexEntries(index: MultiPackIndex): MultiPackEntry[] | string {
  for (let b = 0; b < 256; b++) {
    const bucket = checkBucket(index, b);
    if (typeof bucket === 'string') return bucket;
  }
  const entriesAt = entriesStart(index);
  return Array.from({ length: index.count }, (_, i) => entryAt(index, entriesAt + i * ENTRY_SIZE));
}

/** Entries `[first, end)` of fan-out bucket `b`. */
function bucketRange(index: MultiPackIndex, b: number): [number, number] {
  return [b === 0 ? 0 : index.bytes.readUInt32BE(HEADER_SIZE + (b - 1) * 4), index.bytes.readUInt32BE(HEADER_SIZE + b * 4)];
}

/** Where `target` (32 bytes) is or would go among the entries, by binary search of its bucket, unchecked. */
function positionOf(index: MultiPackIndex, target: Buffer): { index: number; found: boolean } {
  let [low, high] = bucketRange(index, target[0]!);
  const entriesAt = entriesStart(index);
  while (low < high) {
    const middle = (low + high) >>> 1;
    const at = entriesAt + middle * ENTRY_SIZE;
    const order = target.compare(index.bytes, at, at + 32);
    if (order === 0) return { index: middle, found: true };
    if (order < 0) high = middle;
    else low = middle + 1;
  }
  return { index: low, found: false };
}

function entriesStart(index: MultiPackIndex): number {
  return HEADER_SIZE + FANOUT_SIZE + index.packs.length * PACK_ROW_SIZE;
}

/**
 * The entry range of bucket `b`, its entries checked once (first byte `b`,
 * sorted and unique, pack number in range, offset and length possible), or
 * what is wrong with them: only a faulty writer leaves that behind a
 * matching checksum.
 */
function checkBucket(index: MultiPackIndex, b: number): [number, number] | string {
  const { bytes } = index;
  const [first, end] = bucketRange(index, b);
  if (index.checkedBuckets.has(b)) return [first, end];
  const entriesAt = entriesStart(index);
  for (let i = first; i < end; i++) {
    const at = entriesAt + i * ENTRY_SIZE;
    if (bytes[at] !== b) return `lists object ${bytes.toString('hex', at, at + 32)} in fan-out bucket ${b}`;
    if (i > first && bytes.compare(bytes, at - ENTRY_SIZE, at - ENTRY_SIZE + 32, at, at + 32) <= 0) return 'lists its objects out of order';
    if (bytes.readUInt32BE(at + 32) >= index.packs.length) return `names pack ${bytes.readUInt32BE(at + 32)} of ${index.packs.length}`;
    // High words above 2^21 would put the offset or length past 2^53 bytes: no pack is that large.
    if (bytes.readUInt32BE(at + 36) > 0x1fffff || bytes.readUInt32BE(at + 44) > 0x1fffff) return 'places an object past any pack';
    const { offset, length } = entryAt(index, at);
    if (offset < PACK_HEADER_SIZE || length === 0) return `places object ${bytes.toString('hex', at, at + 32)} outside its pack`;
  }
  index.checkedBuckets.add(b);
  return [first, end];
}

function entryAt(index: MultiPackIndex, at: number): MultiPackEntry {
  const { bytes } = index;
  return {
    checksum: bytes.toString('hex', at, at + 32),
    packHash: index.packs[bytes.readUInt32BE(at + 32)]!,
    offset: bytes.readUInt32BE(at + 36) * 2 ** 32 + bytes.readUInt32BE(at + 40),
    length: bytes.readUInt32BE(at + 44) * 2 ** 32 + bytes.readUInt32BE(at + 48),
  };
}
