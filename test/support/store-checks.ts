/**
 * What every fault and bad-input test checks afterwards: the store opens in
 * a fresh manager, fsck finds no error, and every version acknowledged
 * before is still there with its data.
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';

/** Acknowledged versions: logical key → data of version 1, 2, … (null where a version must not exist). */
export type AcknowledgedVersions = Record<string, unknown[]>;

export async function expectStoreSound(root: string, acknowledged: AcknowledgedVersions = {}): Promise<void> {
  const fresh = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 1000 });
  try {
    const report = await fresh.fsck();
    expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
    for (const [key, versions] of Object.entries(acknowledged)) {
      for (const [i, data] of versions.entries()) expect(await fresh.loadSSOT(key, i + 1)).toEqual(data);
    }
  } finally {
    await fresh.shutdown();
  }
}

/** Every file under `dir` (relative paths, sorted), optionally leaving out a subtree such as `local`. */
export async function listFiles(dir: string, exclude: string[] = []): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((path) => !exclude.some((x) => path === x || path.startsWith(`${x}/`)))
    .sort();
}
