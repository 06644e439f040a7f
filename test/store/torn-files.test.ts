/**
 * Torn files: an object, ref, commit or tag cut short at a random length is
 * detected by the read that meets it (an `IntegrityError`) and by fsck, and
 * never returned as data.
 */
import fc from 'fast-check';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EnhancedStateManager, IntegrityError } from '../../src/index.js';
import { readAeIr, tempProject } from '../helpers.js';

let root = '';
let snapshotId = '';
const tally = { torn: 0 };

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

async function createStore(): Promise<void> {
  root = await tempProject();
  const manager = new EnhancedStateManager(root, { gcInterval: 0 });
  await manager.saveSSOT('spec', await readAeIr(), { phase: 'p' });
  await manager.saveSSOT('small', { n: 1 }, { phase: 'p' });
  snapshotId = await manager.createSnapshot('p');
  await manager.shutdown();
}

afterAll(() => console.log(`torn files: ${tally.torn} truncations detected by reads and by fsck`));

/** Every way a reader can meet the file; each must throw an IntegrityError, never return data. */
async function readEverything(manager: EnhancedStateManager): Promise<unknown[]> {
  const outcomes: unknown[] = [];
  const attempt = async (read: () => Promise<unknown>) => outcomes.push(await read().catch((error: unknown) => error));
  for (const key of ['spec', 'small']) await attempt(() => manager.loadSSOT(key));
  await attempt(() => manager.loadSnapshot(snapshotId));
  await attempt(() => manager.getLog());
  return outcomes;
}

async function expectTornDetected(kind: 'objects' | 'refs/keys' | 'commits' | 'refs/tags', pick: number, fraction: number) {
  const files = await filesUnder(join(root, '.ae', kind));
  const path = files[pick % files.length]!;
  const original = await readFile(path);
  const length = Math.floor(original.length * fraction);
  // Cutting only a JSON file's trailing newline leaves the same document: not torn.
  if (kind !== 'objects' && original.subarray(0, length).toString().trim() === original.toString().trim()) return;
  await truncate(path, length);
  try {
    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    const outcomes = await readEverything(manager);
    const report = await manager.fsck();
    await manager.shutdown();
    expect(report.ok).toBe(false);
    expect(report.problems.some((p) => p.severity === 'error')).toBe(true);
    // At least one read met the torn file and refused it; no read returned a wrong document.
    expect(outcomes.some((o) => o instanceof IntegrityError)).toBe(true);
    for (const outcome of outcomes) if (outcome instanceof Error) expect(outcome).toBeInstanceOf(IntegrityError);
    tally.torn++;
  } finally {
    await writeFile(path, original);
  }
}

describe('torn files', () => {
  for (const kind of ['objects', 'refs/keys', 'commits', 'refs/tags'] as const) {
    it(`a truncated file under ${kind}/ is refused by reads and reported by fsck`, async () => {
      // tempProject's directories live for one test.
      await createStore();
      await fc.assert(
        fc.asyncProperty(fc.nat(10), fc.double({ min: 0, max: 0.999, noNaN: true }), (pick, fraction) => expectTornDetected(kind, pick, fraction)),
        { numRuns: 15, examples: [[0, 0], [1, 0.5], [0, 0.9947916666666666]] },
      );
    });
  }
});
