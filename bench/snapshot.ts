/**
 * Snapshot archives: export and import of a 10,000-entry snapshot as a tar,
 * beside the real `tar -cf` / `tar -xf` of the same files written plainly to
 * a directory, measured in the same run; and the peak memory of the export,
 * run in a child process, beside a child that only opens the store.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EnhancedStateManager } from '../src/index.js';
import { benchDir, fmt, printTable, ratio, REPO_ROOT, sampleAeIr } from './fixtures.js';

const ENTRIES = 10_000;

/** A store with ENTRIES keys of one version each, all in phase "bench", filled through one backup import. */
async function fillStore(root: string): Promise<void> {
  const doc = sampleAeIr();
  const timestamp = new Date().toISOString();
  const entries = Array.from({ length: ENTRIES }, (_, i) => {
    const data = { ...doc, revision: i, name: `Specification ${i}` };
    const json = JSON.stringify(data);
    return {
      logicalKey: `bench.entity_${i}.specification`,
      timestamp,
      version: 1,
      checksum: createHash('sha256').update(json).digest('hex'),
      data,
      compressed: false,
      tags: { n: String(i) },
      metadata: { created: timestamp, source: 'bench', phase: 'bench' },
    };
  });
  const manager = new EnhancedStateManager(root, { gcInterval: 0 });
  await manager.importState({ metadata: { version: '1.0.0', timestamp, options: {} }, entries });
  await manager.shutdown();
}

function timeCommand(file: string, args: string[]): number {
  const start = performance.now();
  execFileSync(file, args, { stdio: 'ignore' });
  return (performance.now() - start) / 1000;
}

function runChild(args: string[]): { seconds: number; maxRssKb: number } {
  const script = join(REPO_ROOT, 'dist', 'bench', 'snapshot-export-child.js');
  return JSON.parse(execFileSync(process.execPath, [script, ...args], { encoding: 'utf8' })) as { seconds: number; maxRssKb: number };
}

export async function runSnapshotBench(): Promise<void> {
  const dir = await benchDir('snapshot');
  const source = join(dir, 'source');
  await fillStore(source);
  const manager = new EnhancedStateManager(source, { gcInterval: 0 });
  const snapshotId = await manager.createSnapshot('bench');
  await manager.shutdown();

  const tarFile = join(dir, 'snapshot.tar');
  const exported = runChild(['export', source, snapshotId, tarFile]);
  const baseline = runChild(['baseline', source]);
  const tarBytes = (await stat(tarFile)).size;
  const mb = tarBytes / 1e6;

  // The reference: the same member files, written plainly to a directory, archived and extracted by the real tar.
  const plain = join(dir, 'plain');
  await mkdir(plain);
  execFileSync('tar', ['-xf', tarFile, '-C', plain]);
  const tarCreate = timeCommand('tar', ['-cf', join(dir, 'reference.tar'), '-C', plain, '.']);
  const extracted = join(dir, 'extracted');
  await mkdir(extracted);
  const tarExtract = timeCommand('tar', ['-xf', join(dir, 'reference.tar'), '-C', extracted]);

  const target = new EnhancedStateManager(join(dir, 'target'), { gcInterval: 0 });
  await target.initialize();
  const importStart = performance.now();
  const imported = await target.importSnapshot(tarFile);
  const importSeconds = (performance.now() - importStart) / 1000;
  await target.shutdown();
  if (imported.published !== ENTRIES) throw new Error(`import published ${imported.published} of ${ENTRIES} entries`);

  printTable(
    ['operation', 'entries', 'tar MB', 'seconds', 'MB/s', 'reference', 'reference seconds', 'reference MB/s', 'ratio'],
    [
      ['exportSnapshot (streamed, verified reads)', ENTRIES, fmt(mb, 1), fmt(exported.seconds), fmt(mb / exported.seconds, 1), 'tar -cf', fmt(tarCreate), fmt(mb / tarCreate, 1), ratio(exported.seconds / tarCreate)],
      ['importSnapshot (verified, one commit)', ENTRIES, fmt(mb, 1), fmt(importSeconds), fmt(mb / importSeconds, 1), 'tar -xf', fmt(tarExtract), fmt(mb / tarExtract, 1), ratio(importSeconds / tarExtract)],
    ],
  );
  printTable(
    ['peak memory (maxRSS)', 'MB'],
    [
      ['child process exporting the 10,000-entry snapshot', fmt(exported.maxRssKb / 1024, 1)],
      ['child process that only opens the store (baseline)', fmt(baseline.maxRssKb / 1024, 1)],
      ['export overhead', fmt((exported.maxRssKb - baseline.maxRssKb) / 1024, 1)],
      ['tar size, for comparison', fmt(tarBytes / 1024 / 1024, 1)],
    ],
  );
}
