/**
 * Transactions: a 100-save transaction against 100 raw writes of the same
 * bytes with one fsync at the end, and throughput of 4 writer processes
 * against one.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EnhancedStateManager } from '../src/index.js';
import { serialize } from '../src/model/codec.js';
import { benchDir, fmt, median, printTable, ratio, sampleAeIr } from './fixtures.js';

const SAVES_PER_TX = 100;
const ROUNDS = 7;

/** gzip + sha256 + write + rename for each payload, one directory fsync at the end. */
async function rawBatch(dir: string, payloads: Buffer[]): Promise<number> {
  await mkdir(dir, { recursive: true });
  const start = performance.now();
  for (const bytes of payloads) {
    const gz = gzipSync(bytes);
    const name = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(dir, `${name}.tmp`), gz);
    await rename(join(dir, `${name}.tmp`), join(dir, name));
  }
  const handle = await open(dir, 'r');
  await handle.sync();
  await handle.close();
  return performance.now() - start;
}

async function transactionVsRaw(root: string) {
  const manager = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 1000 });
  await manager.initialize();
  const doc = sampleAeIr();
  const tx: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const docs = Array.from({ length: SAVES_PER_TX }, (_, i) => ({ ...doc, round, i }));
    const start = performance.now();
    await manager.withTransaction(async (t) => {
      for (let i = 0; i < docs.length; i++) await t.saveSSOT(`tx.key${i % 20}`, docs[i]);
    });
    tx.push(performance.now() - start);
    raw.push(await rawBatch(join(root, 'raw', String(round)), docs.map((d) => serialize({ ...d, raw: true }))));
  }
  await manager.shutdown();
  return { tx: median(tx), raw: median(raw) };
}

const WRITER = `
import { EnhancedStateManager } from ${JSON.stringify(new URL('../src/index.js', import.meta.url).href)};
const [root, name, count] = process.argv.slice(1);
const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 1000 });
const doc = JSON.parse(process.env.DOC);
for (let n = 0; n < Number(count); n++) {
  await m.withTransaction(async (t) => {
    for (let i = 0; i < 10; i++) await t.saveSSOT('w.' + name + '.' + i, { ...doc, n, i });
  });
}
await m.shutdown();
`;

async function writers(root: string, processes: number, txPerProcess: number): Promise<number> {
  const doc = JSON.stringify(sampleAeIr());
  const start = performance.now();
  await Promise.all(
    Array.from({ length: processes }, (_, p) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, root, `p${p}`, String(txPerProcess)], {
          env: { ...process.env, DOC: doc },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
      }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  return (processes * txPerProcess * 10) / seconds;
}

export async function runTransactionBench(): Promise<void> {
  const root = await benchDir('tx');
  const { tx, raw } = await transactionVsRaw(root);
  printTable(['operation', 'ms (median of 7)', 'ratio'], [
    ['100 raw writes, one fsync', fmt(raw, 1), '1.00x'],
    ['100-save transaction commit', fmt(tx, 1), ratio(tx / raw)],
  ]);
  const single = await writers(join(root, 'one'), 1, 40);
  const four = await writers(join(root, 'four'), 4, 40);
  printTable(['writers', 'saves/s (10-save transactions)', 'vs one writer'], [
    ['1 process', fmt(single, 0), '1.00x'],
    ['4 processes', fmt(four, 0), ratio(four / single)],
  ]);
  process.stdout.write('Target: a 100-save transaction within 2x of 100 raw writes.\n');
  await rm(root, { recursive: true, force: true });
}
