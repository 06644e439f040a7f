/**
 * Core store: saveSSOT and loadSSOT against raw references measured in the
 * same run, on stores holding 100 and 10,000 versions, and CLI start-up.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { EnhancedStateManager } from '../src/index.js';
import { serialize } from '../src/model/codec.js';
import { benchDir, fmt, largeAeIr, median, printTable, ratio, REPO_ROOT, sampleAeIr } from './fixtures.js';

const SAVES = 150;
const LOADS = 400;

/** Fills a store with `count` versions: count/10 keys of 10 versions each, saved in transactions of 100. */
async function prefill(root: string, count: number): Promise<void> {
  const manager = new EnhancedStateManager(root, { gcInterval: 0 });
  const doc = sampleAeIr();
  for (let done = 0; done < count; done += 100) {
    await manager.withTransaction(async (tx) => {
      for (let i = done; i < Math.min(done + 100, count); i++) {
        await tx.saveSSOT(`prefill.key${Math.floor(i / 10)}`, { ...doc, revision: i });
      }
    });
  }
  await manager.shutdown();
}

/** gzip + sha256 + write temp + fsync + rename: the least a durable, verified, compressed save can do. */
async function rawSave(dir: string, payloads: Buffer[]): Promise<number> {
  await mkdir(dir, { recursive: true });
  const start = performance.now();
  for (const bytes of payloads) {
    const gz = gzipSync(bytes);
    const name = createHash('sha256').update(bytes).digest('hex');
    const temp = join(dir, `${name}.tmp`);
    const handle = await open(temp, 'w');
    await handle.writeFile(gz);
    await handle.sync();
    await handle.close();
    await rename(temp, join(dir, name));
  }
  return (performance.now() - start) / payloads.length;
}

/** read + gunzip + sha256: the least a verified load of a compressed object can do. */
async function rawLoad(path: string, count: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const bytes = gunzipSync(await readFile(path));
    createHash('sha256').update(bytes).digest('hex');
    JSON.parse(bytes.toString('utf8'));
  }
  return (performance.now() - start) / count;
}

function payloadsOf(doc: Record<string, unknown>, count: number, salt: string): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, i) => ({ ...doc, revision: `${salt}-${i}` }));
}

async function measure(root: string, doc: Record<string, unknown>, label: string) {
  const manager = new EnhancedStateManager(root, { gcInterval: 0 });
  await manager.initialize();
  const docs = payloadsOf(doc, SAVES, label);
  const key = `bench.${label}`;
  let start = performance.now();
  for (const d of docs) await manager.saveSSOT(key, d);
  const save = (performance.now() - start) / SAVES;
  start = performance.now();
  for (let i = 0; i < LOADS; i++) await manager.loadSSOT(key);
  const load = (performance.now() - start) / LOADS;
  const latest = (await manager.loadEntry(key))!;
  await manager.shutdown();
  const rawDir = join(root, 'raw', label);
  const rawSaveMs = await rawSave(rawDir, docs.map((d) => serialize(d)));
  const objectPath = join(root, '.ae', 'objects', latest.checksum.slice(0, 2), latest.checksum.slice(2));
  const rawLoadMs = await rawLoad(objectPath, LOADS);
  return { save, load, rawSaveMs, rawLoadMs };
}

function cliStartup(root: string, key: string) {
  const cli = join(REPO_ROOT, 'bin', 'ae-state.js');
  const times = (args: string[]) => {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
    return performance.now() - start;
  };
  const node: number[] = [];
  const load: number[] = [];
  for (let i = 0; i < 15; i++) {
    node.push(times(['-e', '0']));
    load.push(times([cli, 'load', '-k', key]));
  }
  return { node: median(node), load: median(load) };
}

export async function runCoreBench(): Promise<void> {
  const small = sampleAeIr();
  const large = largeAeIr();
  const rows: Array<Array<string | number>> = [];
  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  const roots: Record<number, string> = {};
  for (const stored of [100, 10_000]) {
    const root = await benchDir(`core-${stored}`);
    roots[stored] = root;
    await prefill(root, stored);
    for (const [name, doc] of [['1.9KB', small], ['60KB', large]] as const) {
      const r = await measure(root, doc, name);
      results[`${stored}/${name}`] = r;
      rows.push([stored, name, fmt(r.save), fmt(r.rawSaveMs), ratio(r.save / r.rawSaveMs), fmt(r.load), fmt(r.rawLoadMs), ratio(r.load / r.rawLoadMs)]);
    }
  }
  printTable(['versions stored', 'payload', 'save ms/op', 'raw write ms/op', 'save ratio', 'load ms/op', 'raw read ms/op', 'load ratio'], rows);

  const growth = (['1.9KB', '60KB'] as const).map((name) => {
    const a = results[`100/${name}`]!;
    const b = results[`10000/${name}`]!;
    return [name, ratio(b.save / a.save), ratio(b.load / a.load)];
  });
  printTable(['payload', 'save at 10,000 / at 100', 'load at 10,000 / at 100'], growth);

  const startup = cliStartup(roots[10_000]!, 'prefill.key42');
  printTable(['command', 'wall ms (median of 15)', 'ratio'], [
    ['node -e 0', fmt(startup.node, 1), '1.00x'],
    ['ae-state load -k KEY (10,000 versions)', fmt(startup.load, 1), ratio(startup.load / startup.node)],
  ]);
  process.stdout.write('Targets: save ratio <= 3x, load ratio <= 2x, growth <= 1.3x, CLI load <= 1.3x node -e 0.\n');
  await Promise.all(Object.values(roots).map((root) => rm(root, { recursive: true, force: true })));
}
