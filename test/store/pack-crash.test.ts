/**
 * A writer killed (SIGKILL) at each step of a packed transaction's commit:
 * while its pack is being written, before and after the pack's and the
 * index's renames, and just before the commit point. The transaction
 * acknowledged before is whole, the killed one is not visible at all, fsck
 * finds no error, and garbage collection leaves no pack nothing names.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { expectStoreSound } from '../support/store-checks.js';
import { REPO_ROOT, tempProject } from '../helpers.js';

const WRITER = join(REPO_ROOT, 'test', 'fixtures', 'pack-crash-writer.mjs');
/** Each kill point, and the files in `objects/pack/` it leaves (2: only the acknowledged pack and its index). */
const POINTS: Record<string, number> = {
  'pack-write': 2,
  'before-pack-rename': 2,
  'before-index-rename': 3,
  'after-index-rename': 4,
  'before-commit-point': 4,
};

function runUntilKilled(root: string, point: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, root, point]);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(stdout) : reject(new Error(`writer exited with ${code}: ${stderr}`))));
  });
}

const packsOf = async (root: string) => (await readdir(join(root, '.ae', 'objects', 'pack')).catch(() => [])).sort();

describe('a packed transaction killed at each step of its commit', () => {
  for (const [point, leftInPackDir] of Object.entries(POINTS)) {
    it(`killed at ${point}: all of the earlier transaction, none of the killed one, no pack left after gc`, async () => {
      const root = await tempProject();
      expect(await runUntilKilled(root, point)).toBe('ack\n');
      const manager = new EnhancedStateManager(root, { gcInterval: 0 });
      for (let i = 0; i < 20; i++) {
        expect(await manager.getVersions(`key${i}`)).toHaveLength(1);
        expect(await manager.loadSSOT(`key${i}`)).toEqual({ round: 1, i, pad: 'x'.repeat(i * 50) });
      }
      await manager.shutdown();
      await expectStoreSound(root);
      expect(await packsOf(root)).toHaveLength(leftInPackDir);
      const collector = new EnhancedStateManager(root, { gcInterval: 0 });
      await collector.runGarbageCollection({ prune: 'now' });
      await collector.shutdown();
      // Only the acknowledged transaction's pack and index remain; no temporary file either.
      expect((await packsOf(root)).length).toBe(2);
      expect(await readdir(join(root, '.ae', 'local', 'tmp'))).toEqual([]);
      await expectStoreSound(root);
    });
  }
});
