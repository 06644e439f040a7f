/**
 * Verifying object files in bulk, for fsck. On Node's own file system the
 * work runs in a worker thread (through a guarded `StoreFs` of its own), so that it overlaps
 * the checks of version records and commits on the main thread (the two
 * together take about as long as verifying the objects alone); an injected
 * `StoreFs` is used in this thread instead, so its faults reach fsck.
 */
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { readFileFast } from './bulk-io.js';
import { nodeFs, type StoreFs } from './fs.js';
import { baseFsOf } from './guarded-fs.js';
import type { StoreLayout } from './layout.js';
import { forEachLimit } from './map-limit.js';
import { isGzip, sha256Hex } from './objects.js';
import { listFanout, listFanouts } from './object-scan.js';
import { verifyAllPacks } from './pack-verify.js';

export type ObjectProblemCode = 'corrupt-object' | 'invalid-gzip' | 'unreadable-object' | 'stray-file' | 'damaged-pack';

export interface ObjectVerification {
  /** Objects whose content hashes to their name. */
  valid: string[];
  problems: Array<{ code: ObjectProblemCode; path: string; message: string; checksum?: string }>;
}

/** Why stored object bytes do not hold the object `checksum`, or null when they do. */
export function objectProblem(stored: Buffer, checksum: string): { code: ObjectProblemCode; message: string } | null {
  let serialized = stored;
  if (isGzip(stored)) {
    try {
      serialized = gunzipSync(stored);
    } catch (error) {
      return { code: 'invalid-gzip', message: `is not a valid gzip stream (${(error as Error).message})` };
    }
  }
  const actual = sha256Hex(serialized);
  return actual === checksum ? null : { code: 'corrupt-object', message: `is corrupt: its content hashes to ${actual}` };
}

/** Reads and verifies every file under `objects/`, packs included. Objects removed meanwhile (a concurrent GC) are skipped. */
export async function verifyAllObjects(fs: StoreFs, layout: StoreLayout): Promise<ObjectVerification> {
  const result: ObjectVerification = { valid: [], problems: [] };
  await verifyAllPacks(fs, layout, result);
  const { fanouts, stray } = await listFanouts(fs, layout);
  for (const path of stray) result.problems.push({ code: 'stray-file', path, message: 'is not an object fan-out directory' });
  await forEachLimit(fanouts, 2, async (fanout) => {
    const listing = await listFanout(fs, layout, fanout);
    for (const path of listing.stray) result.problems.push({ code: 'stray-file', path, message: 'is not named like an object' });
    await forEachLimit(listing.objects, 16, async ({ checksum, path }) => {
      let stored: Buffer | null;
      try {
        stored = await readFileFast(fs, path);
      } catch (error) {
        result.problems.push({ code: 'unreadable-object', path, message: `cannot be read: ${(error as Error).message}`, checksum });
        return;
      }
      if (stored === null) return;
      const found = objectProblem(stored, checksum);
      if (found === null) result.valid.push(checksum);
      else result.problems.push({ ...found, path, checksum });
    });
  });
  return result;
}

/** `verifyAllObjects`, in a worker thread when the store is on Node's own file system. */
export function verifyAllObjectsInBackground(fs: StoreFs, layout: StoreLayout): Promise<ObjectVerification> {
  // From TypeScript sources (the test runner) there is no compiled worker module to start.
  if (baseFsOf(fs) !== nodeFs || import.meta.url.endsWith('.ts')) return verifyAllObjects(fs, layout);
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./object-verify-worker.js', import.meta.url), { workerData: { layout } });
    worker.once('message', (message: ObjectVerification | { error: string }) => {
      if ('error' in message) reject(new Error(message.error));
      else resolve(message);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`object verification worker exited with code ${code}`));
    });
  });
}
