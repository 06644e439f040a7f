/**
 * Disk faults (ENOSPC, EIO) at every write, fsync and rename of a snapshot
 * export and of a garbage collection: the caller gets the error, the store
 * still opens, fsck finds no error, and every acknowledged version that the
 * operation had no right to remove is intact.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AeStateError, EnhancedStateManager } from '../../src/index.js';
import { FaultyFs, type FaultKind } from '../support/faulty-fs.js';
import { expectStoreSound, listFiles } from '../support/store-checks.js';
import { readAeIr, run, tempProject } from '../helpers.js';

const KINDS: FaultKind[] = ['write', 'fsync', 'rename'];
const CODES = ['ENOSPC', 'EIO'] as const;
const tally = { export: 0, gc: 0 };

afterAll(() => {
  console.log(`faults: ${tally.export} injected into snapshot exports, ${tally.gc} into garbage collections, nothing lost`);
});

function errnoOf(error: unknown): unknown {
  return error instanceof AeStateError ? error.data.errno : (error as NodeJS.ErrnoException).code;
}

/** Calls `attempt` with the `at`-th operation of `kind` failing, for at = 1, 2, … until the operation no longer reaches it. */
async function forEachFault(kind: FaultKind, code: (typeof CODES)[number], attempt: (faulty: FaultyFs) => Promise<'failed' | 'done'>): Promise<number> {
  let injected = 0;
  for (let at = 1; ; at++) {
    const faulty = new FaultyFs();
    faulty.reset({ kind, at, code });
    const outcome = await attempt(faulty);
    if (outcome === 'done') return injected;
    injected++;
  }
}

/** The bytes a fault-free export writes (exports are deterministic). */
async function exportOnce(root: string, id: string): Promise<Buffer> {
  const manager = new EnhancedStateManager(root, { gcInterval: 0 });
  const path = join(root, 'reference.tar');
  await manager.exportSnapshot(id, path);
  await manager.shutdown();
  return readFile(path);
}

describe('disk faults during a snapshot export', () => {
  for (const code of CODES) {
    it(`an export that hits ${code} at any write, fsync or rename fails cleanly and leaves no partial archive`, async () => {
      const root = await tempProject();
      const aeir = await readAeIr();
      const setup = new EnhancedStateManager(root, { gcInterval: 0 });
      await setup.saveSSOT('spec', aeir, { phase: 'p' });
      await setup.saveSSOT('small', { n: 1 }, { phase: 'p' });
      const id = await setup.createSnapshot('p');
      await setup.shutdown();
      const outDir = join(root, 'out');
      await mkdir(outDir);
      const reference = await exportOnce(root, id);
      let injected = 0;
      for (const kind of KINDS) {
        injected += await forEachFault(kind, code, async (faulty) => {
          const manager = new EnhancedStateManager(root, { gcInterval: 0 }, { fs: faulty.fs });
          await manager.initialize();
          const target = join(outDir, 'snapshot.tar');
          const failure = await manager.exportSnapshot(id, target).then(() => null, (error: unknown) => error);
          const hit = faulty.injected > 0;
          faulty.reset(null);
          await manager.shutdown();
          if (failure === null) {
            expect(await run('tar', ['-tf', target])).toContain('manifest.json');
            expect(await readFile(target)).toEqual(reference);
            await rm(target);
            return hit ? 'failed' : 'done';
          }
          expect(errnoOf(failure)).toBe(code);
          // Nothing half-written: no temporary file, and the archive is either
          // absent or complete (a fault in the final directory fsync comes after the rename).
          const left = await listFiles(outDir);
          expect([[], ['snapshot.tar']]).toContainEqual(left);
          if (left.length > 0) {
            expect(await readFile(target)).toEqual(reference);
            await rm(target);
          }
          await expectStoreSound(root, { spec: [aeir], small: [{ n: 1 }] });
          return 'failed';
        });
      }
      tally.export += injected;
      expect(injected).toBeGreaterThanOrEqual(3);
    });
  }
});

describe('disk faults during garbage collection', () => {
  for (const code of CODES) {
    it(`a GC that hits ${code} at any write, fsync or rename fails cleanly and keeps every version it must keep`, async () => {
      let injected = 0;
      const t0 = Date.parse('2025-01-20T10:00:00.000Z');
      for (const kind of KINDS) {
        injected += await forEachFault(kind, code, async (faulty) => {
          const root = await tempProject();
          const clock = { now: t0 };
          const options = { gcInterval: 0, defaultTTL: 60 };
          const setup = new EnhancedStateManager(root, options, { clock: () => clock.now });
          for (let n = 1; n <= 3; n++) await setup.saveSSOT('old', { n, pad: 'x'.repeat(n * 700) }, { phase: 'p' });
          await setup.createSnapshot('p');
          await setup.saveSSOT('old', { n: 4 });
          await setup.saveSSOT('kept', { long: true }, { ttl: 100_000 });
          const tx = await setup.beginTransaction();
          await setup.rollbackTransaction(tx);
          await setup.shutdown();
          clock.now = t0 + 3_600_000;
          const manager = new EnhancedStateManager(root, options, { fs: faulty.fs, clock: () => clock.now });
          await manager.initialize();
          const failure = await manager.runGarbageCollection({ prune: 'now' }).then(() => null, (error: unknown) => error);
          const hit = faulty.injected > 0;
          faulty.reset(null);
          await manager.shutdown();
          if (failure !== null) expect(errnoOf(failure)).toBe(code);
          // Versions 1 and 2 of "old" were expired: gone or intact, never damaged.
          const fresh = new EnhancedStateManager(root, options, { clock: () => clock.now });
          for (const v of [1, 2]) expect([null, { n: v, pad: 'x'.repeat(v * 700) }]).toContainEqual(await fresh.loadSSOT('old', v));
          await fresh.shutdown();
          // The snapshot's version 3, the newest version 4 and the long-lived key stay.
          await expectStoreSound(root, { kept: [{ long: true }] });
          const after = new EnhancedStateManager(root, options, { clock: () => clock.now });
          expect(await after.loadSSOT('old', 3)).toEqual({ n: 3, pad: 'x'.repeat(2100) });
          expect(await after.loadSSOT('old', 4)).toEqual({ n: 4 });
          await after.runGarbageCollection({ prune: 'now' });
          expect((await after.getVersions('old')).map((v) => v.version)).toEqual([4, 3]);
          await after.shutdown();
          await expectStoreSound(root);
          if (failure === null) return hit ? 'failed' : 'done';
          return 'failed';
        });
      }
      tally.gc += injected;
      expect(injected).toBeGreaterThanOrEqual(2);
    });
  }
});
