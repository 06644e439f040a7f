/**
 * Verifying every pack in `objects/pack/`, for fsck: each index whole (see
 * `readPackIndex`), each pack's header and its name (the sha256 of all its
 * bytes), and every object it lists against its checksum. Damage of any
 * kind is reported as `damaged-pack`, naming the pack; an object that still
 * verifies inside a damaged pack is counted valid (repair salvages it).
 */
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { PACK_NAME, packHeaderProblem } from '../model/pack-index.js';
import { readdirFast, readFileFast } from './bulk-io.js';
import type { StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import { decodeObject, isGzip, type ObjectStore } from './objects.js';
import { objectProblem, type ObjectVerification } from './object-verify.js';
import { packDirOf, packPathOf, readPackIndex } from './packs.js';

/** Adds the packs' valid objects and problems to `result`. */
export async function verifyAllPacks(fs: StoreFs, layout: StoreLayout, result: ObjectVerification): Promise<void> {
  const dir = packDirOf(layout);
  const names = (await readdirFast(fs, dir)).sort();
  const indexed = new Set(names.map((name) => PACK_NAME.exec(name)).filter((m) => m?.[2] === 'idx').map((m) => m![1]!));
  for (const name of names) {
    const match = PACK_NAME.exec(name);
    if (match === null) result.problems.push({ code: 'stray-file', path: join(dir, name), message: 'is not named like a pack or a pack index' });
    else if (match[2] === 'pack' && !indexed.has(match[1]!)) {
      result.problems.push({ code: 'stray-file', path: join(dir, name), message: 'is a pack without its index (an interrupted write; gc removes it)' });
    }
  }
  for (const packHash of indexed) await verifyPack(fs, layout, packHash, result);
}

async function verifyPack(fs: StoreFs, layout: StoreLayout, packHash: string, result: ObjectVerification): Promise<void> {
  const path = packPathOf(layout, packHash, 'pack');
  const damaged = (message: string, checksum?: string): void =>
    void result.problems.push({ code: 'damaged-pack', path, message, ...(checksum === undefined ? {} : { checksum }) });
  let entries;
  let pack;
  try {
    entries = await readPackIndex(fs, layout, packHash);
    pack = entries === null || typeof entries === 'string' ? null : await readFileFast(fs, path);
  } catch (error) {
    damaged(`cannot be read: ${(error as Error).message}`);
    return;
  }
  if (entries === null) return; // Removed meanwhile (a concurrent GC).
  if (typeof entries === 'string') return damaged(`has an index that ${entries}`);
  if (pack === null) return;
  const header = packHeaderProblem(pack);
  if (header !== null) damaged(header);
  const actual = createHash('sha256').update(pack).digest('hex');
  if (actual !== packHash) damaged(`is corrupt: its bytes hash to ${actual}, not its name`);
  for (const entry of entries) {
    const found = objectProblem(pack.subarray(entry.offset, entry.offset + entry.length), entry.checksum);
    if (found === null) result.valid.push(entry.checksum);
    else damaged(`holds object ${entry.checksum}, which ${found.message}`, entry.checksum);
  }
}

/**
 * Before a damaged pack is moved aside: writes every object of it that still
 * verifies as a loose object, made durable, so the versions naming it stay
 * readable. Answers how many were saved; none when the index is unreadable.
 */
export async function salvagePack(fs: StoreFs, layout: StoreLayout, objects: ObjectStore, packPath: string): Promise<number> {
  const packHash = PACK_NAME.exec(basename(packPath))?.[1];
  const entries = packHash === undefined ? null : await readPackIndex(fs, layout, packHash).catch(() => null);
  const pack = entries === null || typeof entries === 'string' ? null : await readFileFast(fs, packPath).catch(() => null);
  if (pack === null || entries === null || typeof entries === 'string') return 0;
  const saved: string[] = [];
  for (const entry of entries) {
    const stored = pack.subarray(entry.offset, entry.offset + entry.length);
    if (objectProblem(stored, entry.checksum) !== null) continue;
    const serialized = decodeObject(Buffer.from(stored), entry.checksum, packPath);
    await objects.writeLoose(serialized, isGzip(stored), entry.checksum);
    saved.push(entry.checksum);
  }
  await objects.syncObjects(saved);
  return saved.length;
}
