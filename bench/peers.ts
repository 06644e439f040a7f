/**
 * ae-state beside what a user would pick instead, in one interleaved run:
 * SQLite through better-sqlite3 (WAL, synchronous=FULL, one durable
 * transaction per save), the raw loop (gzip + sha256 + write + fsync +
 * rename + directory fsync), and the measured floor of ae-state's on-disk
 * shape. Every row alternates the contenders round by round and prints
 * medians; fsyncs are counted through the store's injectable file system
 * for ae-state, by construction for the raw loop and the floor, and with
 * strace (when installed) for SQLite.
 */
import { rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EnhancedStateManager } from '../src/index.js';
import { benchDir, fmt, median, printTable, ratio, sampleAeIr } from './fixtures.js';
import { countingFs, floorSave, floorTransaction, prepareFloor, rawSave, rawSaveMany, SqliteStore, type Payload } from './peer-stores.js';
import { concurrentWriters, fsyncsUnderStrace, hasStrace } from './peer-processes.js';
import { runPeerImports } from './peer-imports.js';
import { runPeerStartup } from './peer-startup.js';

const ROUNDS = 5;
const SAVES = 30;
const KEY = 'bench.peer';

let salt = 0;
function payloadsOf(count: number, key = KEY): Payload[] {
  const doc = sampleAeIr();
  return Array.from({ length: count }, () => ({ logicalKey: key, bytes: Buffer.from(JSON.stringify({ ...doc, revision: `p${salt++}` })) }));
}
const docOf = (payload: Payload) => JSON.parse(payload.bytes.toString('utf8')) as unknown;

async function timed(work: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

export interface PeerRow {
  work: string;
  ae: number;
  aeFsyncs: string;
  sqlite: number | null;
  sqliteFsyncs: string;
  raw: number | null;
  rawFsyncs: string;
}

export function printPeerRows(rows: PeerRow[]): void {
  const ms = (n: number | null) => (n === null ? '—' : fmt(n, 2));
  const r = (a: number, b: number | null) => (b === null ? '—' : ratio(a / b));
  printTable(
    ['work (store of 100 versions, 1.2 KB AE-IR)', 'ae-state ms', 'fsyncs', 'SQLite FULL ms', 'fsyncs', 'raw loop ms', 'fsyncs', 'ae-state / SQLite FULL', 'ae-state / raw'],
    rows.map((row) => [row.work, ms(row.ae), row.aeFsyncs, ms(row.sqlite), row.sqliteFsyncs, ms(row.raw), row.rawFsyncs, r(row.ae, row.sqlite), r(row.ae, row.raw)]),
  );
}

interface Stores {
  dir: string;
  manager: EnhancedStateManager;
  counter: ReturnType<typeof countingFs>;
  sqlite: SqliteStore;
  sqliteFile: string;
  rawDir: string;
  floorDir: string;
}

async function openStores(): Promise<Stores> {
  const dir = await benchDir('peers');
  const counter = countingFs();
  const manager = new EnhancedStateManager(join(dir, 'ae'), { gcInterval: 0, maxVersions: 100_000 }, { fs: counter.fs });
  await manager.withTransaction(async (tx) => {
    for (const payload of payloadsOf(100, 'bench.prefill')) await tx.saveSSOT('bench.prefill', docOf(payload));
  });
  const sqliteFile = join(dir, 'peer.sqlite');
  const sqlite = new SqliteStore(sqliteFile);
  sqlite.saveMany(payloadsOf(100, 'bench.prefill'));
  const rawDir = join(dir, 'raw');
  mkdirSync(rawDir, { recursive: true });
  const floorDir = join(dir, 'floor');
  prepareFloor(floorDir, [KEY, ...Array.from({ length: 20 }, (_, i) => `${KEY}${i}`)]);
  return { dir, manager, counter, sqlite, sqliteFile, rawDir, floorDir };
}

/** One save at a time, each its own durable commit. */
async function singleSaves(s: Stores): Promise<{ row: PeerRow; floor: number }> {
  const ae: number[] = [], sq: number[] = [], raw: number[] = [], floor: number[] = [];
  let fsyncs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const batch = payloadsOf(SAVES);
    s.counter.reset();
    ae.push((await timed(async () => { for (const p of batch) await s.manager.saveSSOT(KEY, docOf(p)); })) / SAVES);
    fsyncs += s.counter.counts.fsync;
    sq.push((await timed(() => { for (const p of payloadsOf(SAVES)) s.sqlite.saveOne(p); })) / SAVES);
    raw.push((await timed(async () => { for (const p of payloadsOf(SAVES)) await rawSave(s.rawDir, p); })) / SAVES);
    floor.push((await timed(async () => { for (const p of payloadsOf(SAVES)) await floorSave(s.floorDir, p); })) / SAVES);
  }
  const counts = s.counter.counts;
  const perSave = fsyncs / (ROUNDS * SAVES);
  return {
    row: {
      work: 'one save',
      ae: median(ae),
      aeFsyncs: `${fmt(perSave, 1)} (${fmt(counts.open / SAVES, 1)} opens, ${fmt(counts.rename / SAVES, 1)} renames, ${fmt(counts.link / SAVES, 1)} links, ${fmt(counts.unlink / SAVES, 1)} unlinks)`,
      sqlite: median(sq),
      sqliteFsyncs: await fsyncsUnderStrace(s.dir, 'single', SAVES),
      raw: median(raw),
      rawFsyncs: '2',
    },
    floor: median(floor),
  };
}

/** A 100-save transaction, and 100 saves started together in one process. */
async function hundredSaves(s: Stores): Promise<{ tx: PeerRow; floor: number; concurrent: { all: number; tx: number; fsyncsAll: number; fsyncsTx: number } }> {
  const tx: number[] = [], all: number[] = [], sq: number[] = [], raw: number[] = [], floor: number[] = [];
  let fsyncsTx = 0, fsyncsAll = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const batch = payloadsOf(100);
    s.counter.reset();
    tx.push(await timed(() => s.manager.withTransaction(async (t) => { for (let i = 0; i < 100; i++) await t.saveSSOT(`${KEY}${i % 20}`, docOf(batch[i]!)); })));
    fsyncsTx += s.counter.counts.fsync;
    const together = payloadsOf(100);
    s.counter.reset();
    all.push(await timed(() => Promise.all(together.map((p, i) => s.manager.saveSSOT(`${KEY}${i % 20}`, docOf(p))))));
    fsyncsAll += s.counter.counts.fsync;
    sq.push(await timed(() => s.sqlite.saveMany(payloadsOf(100))));
    const rawDir = join(s.rawDir, `batch${round}`);
    mkdirSync(rawDir);
    raw.push(await timed(() => rawSaveMany(rawDir, payloadsOf(100))));
    const floorBatch = payloadsOf(100).map((p, i) => ({ ...p, logicalKey: `${KEY}${i % 20}` }));
    floor.push(await timed(() => floorTransaction(s.floorDir, floorBatch)));
  }
  return {
    tx: {
      work: '100-save transaction',
      ae: median(tx),
      aeFsyncs: fmt(fsyncsTx / ROUNDS, 0),
      sqlite: median(sq),
      sqliteFsyncs: await fsyncsUnderStrace(s.dir, 'batch', 100),
      raw: median(raw),
      rawFsyncs: '101',
    },
    floor: median(floor),
    concurrent: { all: median(all), tx: median(tx), fsyncsAll: fsyncsAll / ROUNDS, fsyncsTx: fsyncsTx / ROUNDS },
  };
}

/**
 * Four writers in one process, each saving its own key one save at a time:
 * the 4-process row's work, grouped by the in-process commit queue. What
 * grouping the saves of other processes could approach.
 */
async function fourWritersInProcess(s: Stores): Promise<number> {
  const perSave: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const writers = Array.from({ length: 4 }, (_, w) => ({ key: `bench.writer${w}`, batch: payloadsOf(20) }));
    perSave.push(
      (await timed(() => Promise.all(writers.map(async ({ key, batch }) => { for (const p of batch) await s.manager.saveSSOT(key, docOf(p)); })))) / 80,
    );
  }
  return median(perSave);
}

export async function runPeerBench(): Promise<void> {
  if (!hasStrace()) process.stdout.write('strace is not installed: SQLite fsyncs are not counted (n/a).\n\n');
  const stores = await openStores();
  const single = await singleSaves(stores);
  const hundred = await hundredSaves(stores);
  const fourInProcess = await fourWritersInProcess(stores);
  await stores.manager.shutdown();
  stores.sqlite.close();
  const four = await concurrentWriters(stores.dir, 4, 20, ROUNDS);
  const rows: PeerRow[] = [
    single.row,
    { work: '4 concurrent saves (4 processes), per save', ae: four.ae, aeFsyncs: '—', sqlite: four.sqlite, sqliteFsyncs: '—', raw: four.raw, rawFsyncs: '2' },
    hundred.tx,
    ...(await runPeerImports(3)),
  ];
  printPeerRows(rows);
  printTable(['work', 'ms', 'fsyncs', 'ratio'], [
    ['one 100-save transaction', fmt(hundred.concurrent.tx, 2), fmt(hundred.concurrent.fsyncsTx, 0), '1.00x'],
    ['100 concurrent in-process saves (Promise.all)', fmt(hundred.concurrent.all, 2), fmt(hundred.concurrent.fsyncsAll, 0), ratio(hundred.concurrent.all / hundred.concurrent.tx)],
    ['floor: 100 ref files written + fsynced, their 20 folders, one commit (no objects)', fmt(hundred.floor, 2), '122', ratio(hundred.floor / hundred.concurrent.tx)],
    ['SQLite FULL, the same 100 saves in one transaction', fmt(hundred.tx.sqlite!, 2), hundred.tx.sqliteFsyncs, ratio(hundred.tx.sqlite! / hundred.concurrent.tx)],
  ]);
  printTable(['4 concurrent writers, 20 saves each, per save', 'ms', 'ratio to raw loop (4 processes)'], [
    ['raw loop, 4 processes', fmt(four.raw, 2), '1.00x'],
    ['ae-state, 4 processes (not grouped)', fmt(four.ae, 2), ratio(four.ae / four.raw)],
    ['ae-state, 4 writers in one process (grouped)', fmt(fourInProcess, 2), ratio(fourInProcess / four.raw)],
  ]);
  printTable(['one save', 'ms', 'fsyncs', 'ratio to floor'], [
    ['measured floor of the on-disk shape (object + ref + commit file, 2 fsync rounds)', fmt(single.floor, 2), '6', '1.00x'],
    ['ae-state saveSSOT', fmt(single.row.ae, 2), single.row.aeFsyncs.split(' ')[0]!, ratio(single.row.ae / single.floor)],
    ['raw loop', fmt(single.row.raw!, 2), '2', ratio(single.row.raw! / single.floor)],
    ['SQLite FULL', fmt(single.row.sqlite!, 2), single.row.sqliteFsyncs, ratio(single.row.sqlite! / single.floor)],
  ]);
  await runPeerStartup(ROUNDS * 3);
  process.stdout.write(
    'Targets: bulk writes (100-save transaction, imports, add) <= 2x SQLite FULL; 4 concurrent writers <= 1.5x the raw loop;\n' +
      '100 concurrent in-process saves <= 1.3x one 100-save transaction; one save <= 1.5x the raw loop; CLI load <= 1.3x node -e 0.\n',
  );
  await rm(stores.dir, { recursive: true, force: true });
}
