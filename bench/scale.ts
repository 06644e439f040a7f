/**
 * Scale: the same operations on a store of 10,000 versions (100 keys × 100)
 * and on a large one of `AE_BENCH_SCALE_VERSIONS` versions (default 100,000,
 * 1,000 keys × 100; 1,000,000 gives 10,000 keys × 100), in interleaved
 * rounds, medians, with the ratio large/small. Both stores are built with
 * the bulk path and hold keys of the same history: transaction v saves
 * version v of every key (in transactions of up to 10,000 saves), so in
 * either store a key's 100 versions come from 100 commits, as saves made at
 * different times leave them, and what differs is only how much else the
 * store holds.
 *
 * A million versions take an hour to build: with `AE_BENCH_SCALE_DIR` set,
 * the stores are built there once, kept, and measured again by later runs
 * (each run adds its rounds' saves to them).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnhancedStateManager } from '../src/index.js';
import { storeLayout } from '../src/store/layout.js';
import { benchDir, fmt, median, printTable, ratio, REPO_ROOT, sampleAeIr } from './fixtures.js';
import { buildStore } from './retention.js';

const VERSIONS_PER_KEY = 100;
const TRANSACTION_SAVES = 10_000;
const ROUNDS = 5;
const SAVES_PER_ROUND = 20;
const LOADS_PER_ROUND = 50;
// Cold reads need keys no round has read: the small store has 50 to spare (see coldKeys), 45 of them used.
const COLD_LOADS_PER_ROUND = 6;
const LISTINGS_PER_ROUND = 3;
// Fresh processes of either kind per round, small and large store in turn: single starts move by a third from one to the next here.
const FRESH_PER_ROUND = 3;
const FRESH_KEY = 0;
const OPTIONS = { gcInterval: 0, maxVersions: 1_000, recordGitProvenance: false };

interface Store {
  label: string;
  root: string;
  keys: number;
  manager: EnhancedStateManager;
}

const keyName = (k: number) => `scale.key${k}`;

/** Waits for the statistics index's writes, which `getStatistics()` leaves to run after it returns. */
const flushStatistics = (manager: EnhancedStateManager) => (manager as unknown as { statisticsIndex: { flush(): Promise<void> } }).statisticsIndex.flush();

/**
 * `stats` right after a save, in stores laid out as single saves leave them
 * (a commit file per save, here one per key: buildStore of the retention
 * bench, 10 versions a key) of 100 and of 10,000 commits, interleaved.
 */
async function runStatsByCommitCount(): Promise<void> {
  const commitCounts = [100, 10_000];
  const managers = [];
  for (const commits of commitCounts) {
    const root = await benchDir(`scale-commits-${commits}`);
    buildStore(storeLayout(root, '.ae'), commits);
    const manager = new EnhancedStateManager(root, OPTIONS);
    manager.getStatistics();
    await flushStatistics(manager);
    managers.push({ root, manager });
  }
  const times: number[][] = managers.map(() => []);
  for (let round = 0; round < ROUNDS * 4; round++) {
    for (const [i, { manager }] of managers.entries()) {
      await manager.saveSSOT('bench.key.1', { round });
      times[i]!.push(timeMs(() => manager.getStatistics()));
      await flushStatistics(manager);
    }
  }
  const [few, many] = times.map(median) as [number, number];
  process.stdout.write(`stats right after a save, by commit files (one per save outside transactions): ${fmt(few)} ms at 100, ${fmt(many)} ms at 10,000 (${ratio(many / few)}).\n`);
  for (const { root, manager } of managers) {
    await manager.shutdown();
    await rm(root, { recursive: true, force: true });
  }
}

interface Built {
  seconds: number;
  transactionSeconds: number[];
  /** Absent in the markers of stores kept by earlier runs, which were built in transactions of 10,000 saves. */
  savesPerTransaction?: number;
}

/**
 * Saves version v of every key, v = 0..99, in the v-th transaction (split in
 * transactions of at most 10,000 saves); returns seconds taken. A kept store
 * built in transactions of another size is built again.
 */
async function build(label: string, keys: number): Promise<{ store: Store; savesPerTransaction: number } & Built> {
  const kept = process.env.AE_BENCH_SCALE_DIR;
  const savesPerTransaction = Math.min(keys, TRANSACTION_SAVES);
  const root = kept ? join(kept, `scale-${label}-${keys}`) : await benchDir(`scale-${label}`);
  const marker = join(root, 'built.json');
  const found = kept ? await readFile(marker, 'utf8').then((text) => JSON.parse(text) as Built, () => null) : null;
  const built = found && (found.savesPerTransaction ?? TRANSACTION_SAVES) === savesPerTransaction ? found : null;
  if (kept && !built) await rm(root, { recursive: true, force: true });
  if (kept) await mkdir(root, { recursive: true });
  const manager = new EnhancedStateManager(root, OPTIONS);
  await manager.initialize();
  if (built) return { store: { label, root, keys, manager }, ...built, savesPerTransaction };
  const doc = sampleAeIr();
  const total = keys * VERSIONS_PER_KEY;
  const transactionSeconds: number[] = [];
  const start = performance.now();
  for (let done = 0; done < total; done += savesPerTransaction) {
    const begun = performance.now();
    await manager.withTransaction(async (tx) => {
      for (let i = done; i < Math.min(done + savesPerTransaction, total); i++) {
        await tx.saveSSOT(keyName(i % keys), { ...doc, revision: i });
      }
    });
    transactionSeconds.push((performance.now() - begun) / 1000);
  }
  const seconds = (performance.now() - start) / 1000;
  if (kept) await writeFile(marker, JSON.stringify({ seconds, transactionSeconds, savesPerTransaction }));
  // Measured by a manager that has read nothing yet, as when the stores are kept.
  await manager.shutdown();
  const measuring = new EnhancedStateManager(root, OPTIONS);
  await measuring.initialize();
  return { store: { label, root, keys, manager: measuring }, seconds, transactionSeconds, savesPerTransaction };
}

function timeMs(work: () => void): number {
  const start = performance.now();
  work();
  return performance.now() - start;
}

async function timeAsyncMs(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

const CLI = join(REPO_ROOT, 'bin', 'ae-state.js');

function runCli(store: Store, args: string[]): void {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: store.root, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`ae-state ${args.join(' ')} failed: ${result.stderr}`);
}

function firstLoadInFreshProcess(store: Store, options: { refChecks: boolean }): number {
  // Without ref checks the process reads every commit that lists a version of the key, as after a fresh clone.
  if (!options.refChecks) rmSync(join(store.root, '.ae', 'local', 'checked'), { recursive: true, force: true });
  const start = performance.now();
  runCli(store, ['load', '-k', keyName(FRESH_KEY)]);
  return performance.now() - start;
}

/**
 * A key the measuring process has not read, just read by another process:
 * the files it needs are in the page cache in either store. This machine
 * pages out file data nobody has read for a minute, so without this a cold
 * read measures the disk, and the small store, whose few keys are read often,
 * far less of it than the large one (the rows of an earlier run: 2.70x
 * against 0.95x an hour before, on the same stores).
 */
function readByAnotherProcess(store: Store, key: string): void {
  runCli(store, ['load', '-k', key]);
}

const FIGURES = ['save', 'load', 'loadAgain', 'versions', 'versionsAgain', 'stats', 'fresh', 'freshUnchecked'] as const;
type Figures = Record<(typeof FIGURES)[number], number[]>;
const LABELS: Record<(typeof FIGURES)[number], string> = {
  save: 'save',
  load: 'load (a key this process has not read)',
  loadAgain: 'load again (a key just read)',
  versions: 'versions, 100 entries (a key not read)',
  versionsAgain: 'versions again',
  stats: 'stats (after saves)',
  fresh: 'fresh process: first load (CLI)',
  freshUnchecked: 'fresh process, no ref checks yet',
};

/**
 * Keys for the rounds: saves go to the lower half (but for the fresh
 * process's key, 0), reads of keys not read before to the upper half, in an
 * order spread over it, so a cold read is cold in both stores: the small
 * store's 100 keys would otherwise all be in memory after a round.
 */
function coldKeys(keys: number): () => number {
  const half = keys >> 1;
  let next = 0;
  return () => {
    if (next >= keys - half) throw new Error('the scale bench ran out of keys not read before');
    return half + ((next++ * 37) % (keys - half));
  };
}

/**
 * The key of a round's i-th save: one of keys 1–49 in either store (never
 * the fresh process's key 0), so both stores' saves work on the same number
 * of keys, whose files stay in memory alike.
 */
const SAVED_KEYS = 49;
/**
 * Saves of this run write data no earlier run wrote: kept stores would
 * otherwise find every object stored already, and measure reuse instead of
 * new objects (a pipeline's saves carry new data).
 */
const RUN_ID = randomBytes(8).toString('hex');
function savedKey(round: number, i: number): string {
  return keyName(1 + ((round * 7919 + i * 104_729) % SAVED_KEYS));
}

/**
 * Saves are measured on keys this process has read, in both stores: a first
 * save of a key lists its versions as a first load does (the cold load row).
 */
async function readSavedKeys(store: Store): Promise<void> {
  for (let k = 1; k <= SAVED_KEYS; k++) await store.manager.getVersions(keyName(k));
}

/**
 * One round: each measurement made on the small store, then at once on the
 * large one, so that both meet the disk in the same state (fsync latency
 * here moves by a factor of two from minute to minute).
 */
async function measureRound(stores: Store[], round: number, figures: Figures[], nextColdKeys: Array<() => number>): Promise<void> {
  const each = async (work: (store: Store, i: number) => Promise<void>) => {
    for (const [i, store] of stores.entries()) await work(store, i);
  };
  const saves = stores.map((): number[] => []);
  for (let n = 0; n < SAVES_PER_ROUND; n++) {
    await each(async (store, i) => void saves[i]!.push(await timeAsyncMs(() => store.manager.saveSSOT(savedKey(round, n), { run: RUN_ID, round, n }))));
  }
  await each(async (_, i) => void figures[i]!.save.push(median(saves[i]!)));
  const cold = stores.map((): number[] => []);
  const read = stores.map((): string[] => []);
  for (let n = 0; n < COLD_LOADS_PER_ROUND; n++) {
    await each(async (store, i) => {
      const key = keyName(nextColdKeys[i]!());
      read[i]!.push(key);
      readByAnotherProcess(store, key);
      cold[i]!.push(await timeAsyncMs(() => store.manager.loadSSOT(key)));
    });
  }
  const warm = stores.map((): number[] => []);
  for (let n = 0; n < LOADS_PER_ROUND; n++) {
    await each(async (store, i) => void warm[i]!.push(await timeAsyncMs(() => store.manager.loadSSOT(read[i]![n % read[i]!.length]!))));
  }
  await each(async (_, i) => {
    figures[i]!.load.push(median(cold[i]!));
    figures[i]!.loadAgain.push(median(warm[i]!));
  });
  const listings = stores.map(() => ({ cold: [] as number[], again: [] as number[] }));
  for (let n = 0; n < LISTINGS_PER_ROUND; n++) {
    await each(async (store, i) => {
      const listed = keyName(nextColdKeys[i]!());
      readByAnotherProcess(store, listed);
      listings[i]!.cold.push(await timeAsyncMs(() => store.manager.getVersions(listed)));
      listings[i]!.again.push(await timeAsyncMs(() => store.manager.getVersions(listed)));
    });
  }
  await each(async (_, i) => {
    figures[i]!.versions.push(median(listings[i]!.cold));
    figures[i]!.versionsAgain.push(median(listings[i]!.again));
  });
  // Right after this round's saves: the index reads again the directories they changed.
  await each(async (store, i) => void figures[i]!.stats.push(timeMs(() => store.manager.getStatistics())));
  // The index's write, and a fold of its new objects into sub-shards after 256 of them, land before anything else is measured.
  await each((store) => flushStatistics(store.manager));
  const starts = stores.map(() => ({ unchecked: [] as number[], checked: [] as number[] }));
  for (let n = 0; n < FRESH_PER_ROUND; n++) {
    await each(async (store, i) => void starts[i]!.unchecked.push(firstLoadInFreshProcess(store, { refChecks: false })));
    await each(async (store, i) => void starts[i]!.checked.push(firstLoadInFreshProcess(store, { refChecks: true })));
  }
  await each(async (_, i) => {
    figures[i]!.freshUnchecked.push(median(starts[i]!.unchecked));
    figures[i]!.fresh.push(median(starts[i]!.checked));
  });
}

export async function runScaleBench(): Promise<void> {
  const largeVersions = Number(process.env.AE_BENCH_SCALE_VERSIONS ?? 100_000);
  const largeKeys = Math.max(1, Math.round(largeVersions / VERSIONS_PER_KEY));
  const small = await build('small', 100);
  const large = await build('large', largeKeys);
  const transactionMedian = median(large.transactionSeconds);
  process.stdout.write(
    `Stores: ${(100 * VERSIONS_PER_KEY).toLocaleString('en-US')} versions (100 keys × ${VERSIONS_PER_KEY}) built in ${small.seconds.toFixed(1)} s ` +
      `by ${small.transactionSeconds.length} transactions of ${small.savesPerTransaction} saves; ` +
      `${(largeKeys * VERSIONS_PER_KEY).toLocaleString('en-US')} versions (${largeKeys.toLocaleString('en-US')} keys × ${VERSIONS_PER_KEY}) built in ${large.seconds.toFixed(1)} s ` +
      `by ${large.transactionSeconds.length} transactions (median ${transactionMedian.toFixed(1)} s per ${large.savesPerTransaction.toLocaleString('en-US')} saves). ` +
      `Set AE_BENCH_SCALE_VERSIONS=1000000 for 10,000 keys × 100.\n\n`,
  );
  const stores = [small.store, large.store];
  const firstStats = stores.map((s) => timeMs(() => s.manager.getStatistics()));
  await Promise.all(stores.map((s) => flushStatistics(s.manager)));
  process.stdout.write(`First stats (builds the statistics index): ${fmt(firstStats[0]! / 1000)} s small, ${fmt(firstStats[1]! / 1000)} s large.\n\n`);
  const figures = stores.map((): Figures => Object.fromEntries(FIGURES.map((name) => [name, []])) as unknown as Figures);
  const nextColdKeys = stores.map((s) => coldKeys(s.keys));
  for (const store of stores) await readSavedKeys(store);
  // The fresh process's key read once by each kind of process, so its files are in memory in both stores from the first round.
  for (const store of stores) for (const refChecks of [false, true]) firstLoadInFreshProcess(store, { refChecks });
  for (let round = 0; round < ROUNDS; round++) await measureRound(stores, round, figures, nextColdKeys);
  const rows = FIGURES.map((name) => {
    const [a, b] = [median(figures[0]![name]), median(figures[1]![name])];
    return [LABELS[name], fmt(a), fmt(b), ratio(b / a)];
  });
  printTable(['operation (median ms)', '10,000 versions', `${(largeKeys * VERSIONS_PER_KEY).toLocaleString('en-US')} versions`, 'large / small'], rows);
  // A listing grows with the keys it lists, so it gets no ratio: the time per key is what must stay flat.
  const listings = [];
  for (const store of stores) listings.push(await timeAsyncMs(() => store.manager.listKeys()));
  process.stdout.write(
    `\nlistKeys (every key, after the rounds): ${fmt(listings[0]! / 1000)} s for ${small.store.keys} keys (${fmt(listings[0]! / small.store.keys)} ms per key), ` +
      `${fmt(listings[1]! / 1000)} s for ${large.store.keys.toLocaleString('en-US')} keys (${fmt(listings[1]! / large.store.keys)} ms per key).\n`,
  );
  await runStatsByCommitCount();
  for (const store of stores) {
    await store.manager.shutdown();
    // A million versions take some 9 GB: the stores go once measured, unless kept on purpose.
    if (!process.env.AE_BENCH_SCALE_DIR) await rm(store.root, { recursive: true, force: true });
  }
}
