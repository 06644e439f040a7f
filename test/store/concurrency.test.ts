/**
 * Several processes writing to one store at once: nothing lost, nothing
 * doubled, version numbers unique and gapless per key.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { REPO_ROOT, runCli, tempProject } from '../helpers.js';

const WRITER = join(REPO_ROOT, 'test', 'fixtures', 'tx-writer.mjs');

function runWriter(root: string, name: string, transactions: number, savesPerTx: number, keyCount: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, root, name, String(transactions), String(savesPerTx), String(keyCount)]);
    const keys: string[] = [];
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`writer ${name} exited ${code}: ${err}`));
      for (const line of out.split('\n')) if (line.startsWith('ack ')) keys.push(...(JSON.parse(line.slice(4)) as { keys: string[] }).keys);
      resolve(keys);
    });
  });
}

async function expectGaplessAndExactly(root: string, acknowledged: string[], logicalKeys: string[]) {
  const manager = new EnhancedStateManager(root, { maxVersions: 100000 });
  const present: string[] = [];
  for (const key of logicalKeys) {
    const versions = await manager.getVersions(key);
    expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => versions.length - i));
    present.push(...versions.map((v) => v.key));
  }
  await manager.shutdown();
  expect(new Set(present).size).toBe(present.length);
  expect(present.sort()).toEqual([...acknowledged].sort());
}

describe('several processes on one store', () => {
  it('4 processes committing multi-key transactions: every acknowledged save present exactly once, versions gapless', async () => {
    const root = await tempProject();
    const keyCount = 6;
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((name) => runWriter(root, name, 15, 3, keyCount)));
    const acknowledged = results.flat();
    expect(acknowledged).toHaveLength(4 * 15 * 3);
    await expectGaplessAndExactly(root, acknowledged, Array.from({ length: keyCount }, (_, i) => `key${i}`));
  });

  it('CLI saves from several processes at once all land, each with its own version', async () => {
    const root = await tempProject();
    const saves = Array.from({ length: 8 }, (_, i) =>
      runCli(['save', '-k', 'shared.spec', '-i', '-', '--json'], { cwd: root, input: JSON.stringify({ writer: i }) }),
    );
    const results = await Promise.all(saves);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const keys = results.map((r) => (JSON.parse(r.stdout) as { key: string }).key);
    const manager = new EnhancedStateManager(root);
    const versions = await manager.getVersions('shared.spec');
    expect(versions.map((v) => v.version)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(versions.map((v) => v.key).sort()).toEqual(keys.sort());
    const writers = await Promise.all(versions.map(async (v) => ((await manager.loadSSOT('shared.spec', v.version)) as { writer: number }).writer));
    expect(writers.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await manager.shutdown();
  });
});
