/**
 * One writer process of the peer benchmark. Opens its store, says "ready",
 * waits for a line on standard input so that every writer starts together,
 * makes its saves and says "done". Also the process strace counts fsyncs in.
 *
 *   node peers-child.js ae-state <root> <key> <count>
 *   node peers-child.js raw <dir> <key> <count>
 *   node peers-child.js sqlite <file> <key> <count> [batch]
 */
import { createInterface } from 'node:readline';
import { EnhancedStateManager } from '../src/index.js';
import { sampleAeIr } from './fixtures.js';
import { rawSave, SqliteStore, type Payload } from './peer-stores.js';

const [kind, target, key, countArg, batch] = process.argv.slice(2);
const count = Number(countArg);
const doc = sampleAeIr();
const docs = Array.from({ length: count }, (_, i) => ({ ...doc, revision: `${process.pid}-${i}` }));
const payloads: Payload[] = docs.map((d) => ({ logicalKey: key!, bytes: Buffer.from(JSON.stringify(d)) }));

async function waitForGo(): Promise<void> {
  if (process.env.AE_BENCH_NO_WAIT) return;
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
}

if (kind === 'ae-state') {
  const manager = new EnhancedStateManager(target!, { gcInterval: 0, maxVersions: 100_000 });
  await manager.initialize();
  await waitForGo();
  for (const d of docs) await manager.saveSSOT(key!, d);
  process.stdout.write('done\n');
  await manager.shutdown();
} else if (kind === 'raw') {
  await waitForGo();
  for (const payload of payloads) await rawSave(target!, payload);
  process.stdout.write('done\n');
} else if (kind === 'sqlite') {
  const store = new SqliteStore(target!);
  await waitForGo();
  if (batch === 'batch') store.saveMany(payloads);
  else for (const payload of payloads) store.saveOne(payload);
  process.stdout.write('done\n');
  store.close();
} else {
  throw new Error(`unknown writer kind ${kind}`);
}
