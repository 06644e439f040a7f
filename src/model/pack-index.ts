/**
 * The byte layout of object packs (`objects/pack/pack-<sha256>.pack`) and of
 * their indexes (`.idx`), as docs/FORMAT.md describes them. Pure: encoding,
 * decoding and every check a reader makes before it trusts an index.
 *
 * A pack is a header followed by the stored bytes of its objects (each
 * exactly what a loose object file would hold) back to back; it is named by
 * the sha256 of all its bytes. Its index lists each object's checksum,
 * offset and length, sorted by checksum, and ends with the sha256 of
 * everything before it.
 */
import { createHash } from 'node:crypto';

export const PACK_MAGIC = Buffer.from('AEPK', 'latin1');
export const INDEX_MAGIC = Buffer.from('AEIX', 'latin1');
export const PACK_VERSION = 1;
/** Magic and version: the first entry of a pack starts here. */
export const PACK_HEADER_SIZE = 8;
/** Magic, version, entry count, the pack's sha256. */
const INDEX_HEADER_SIZE = 44;
/** Checksum (32), offset (u64), length (u64). */
const INDEX_ENTRY_SIZE = 48;
const INDEX_TRAILER_SIZE = 32;

export const PACK_NAME = /^pack-([0-9a-f]{64})\.(pack|idx)$/;

export interface PackEntry {
  checksum: string;
  offset: number;
  length: number;
}

export interface PackIndex {
  /** The sha256 of the pack file, which is also its name. */
  packHash: string;
  /** Sorted by checksum, unique. */
  entries: PackEntry[];
}

/** The bytes every pack starts with. */
export function packHeader(): Buffer {
  const header = Buffer.alloc(PACK_HEADER_SIZE);
  PACK_MAGIC.copy(header, 0);
  header.writeUInt32BE(PACK_VERSION, 4);
  return header;
}

/** The index of a pack; `entries` in any order. */
export function encodePackIndex(packHash: string, entries: readonly PackEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.checksum < b.checksum ? -1 : a.checksum > b.checksum ? 1 : 0));
  const body = Buffer.alloc(INDEX_HEADER_SIZE + sorted.length * INDEX_ENTRY_SIZE);
  INDEX_MAGIC.copy(body, 0);
  body.writeUInt32BE(PACK_VERSION, 4);
  body.writeUInt32BE(sorted.length, 8);
  body.write(packHash, 12, 'hex');
  sorted.forEach((entry, i) => {
    const at = INDEX_HEADER_SIZE + i * INDEX_ENTRY_SIZE;
    body.write(entry.checksum, at, 'hex');
    body.writeBigUInt64BE(BigInt(entry.offset), at + 32);
    body.writeBigUInt64BE(BigInt(entry.length), at + 40);
  });
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/**
 * Decodes an index and checks it whole: magic, version, size, trailing
 * checksum, sorted unique entries, each inside a pack of `packSize` bytes
 * and after its header. Answers the index, or why it cannot be trusted.
 */
export function decodePackIndex(bytes: Buffer, packSize: number): PackIndex | string {
  if (bytes.length < INDEX_HEADER_SIZE + INDEX_TRAILER_SIZE || !bytes.subarray(0, 4).equals(INDEX_MAGIC)) return 'is not a pack index';
  if (bytes.readUInt32BE(4) !== PACK_VERSION) return `has version ${bytes.readUInt32BE(4)}, not ${PACK_VERSION}`;
  const count = bytes.readUInt32BE(8);
  if (bytes.length !== INDEX_HEADER_SIZE + count * INDEX_ENTRY_SIZE + INDEX_TRAILER_SIZE) return `is ${bytes.length} bytes, not the size ${count} entries take`;
  const body = bytes.subarray(0, bytes.length - INDEX_TRAILER_SIZE);
  if (!createHash('sha256').update(body).digest().equals(bytes.subarray(body.length))) return 'does not match its checksum';
  const entries: PackEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = INDEX_HEADER_SIZE + i * INDEX_ENTRY_SIZE;
    const checksum = bytes.toString('hex', at, at + 32);
    const offset = Number(bytes.readBigUInt64BE(at + 32));
    const length = Number(bytes.readBigUInt64BE(at + 40));
    if (i > 0 && !(checksum > entries[i - 1]!.checksum)) return 'lists its objects out of order';
    if (offset < PACK_HEADER_SIZE || length === 0 || offset + length > packSize) return `places object ${checksum} outside its pack`;
    entries.push({ checksum, offset, length });
  }
  return { packHash: bytes.toString('hex', 12, 44), entries };
}

/** Why the first bytes of a pack are not a pack header, or null. */
export function packHeaderProblem(head: Buffer): string | null {
  if (head.length < PACK_HEADER_SIZE || !head.subarray(0, 4).equals(PACK_MAGIC)) return 'is not a pack';
  const version = head.readUInt32BE(4);
  return version === PACK_VERSION ? null : `has version ${version}, not ${PACK_VERSION}`;
}
