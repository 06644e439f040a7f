/**
 * Benchmark `serve`: the web view on a store of 100,000 versions (10,000
 * keys × 10 versions) beside the CLI commands that show the same data, in
 * the same run, interleaved, medians of several rounds. For each page: time
 * to first byte and full body over HTTP (warm server), and the full page
 * load in headless Chromium (navigation timing, stylesheet and script
 * included) when /usr/bin/chromium is there. The CLI figures are whole
 * `ae-state` processes (start-up included), as a user runs them. The key and
 * diff pages are also measured on a store of 1,000 versions, to show that a
 * page about one key does not grow with the store.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnhancedStateManager } from '../src/index.js';
import { storeLayout } from '../src/store/layout.js';
import { fmt, median, printTable, ratio, REPO_ROOT } from './fixtures.js';
import { buildStore } from './retention.js';

const CLI = join(REPO_ROOT, 'bin', 'ae-state.js');
const CHROMIUM = process.env.AE_STATE_CHROMIUM ?? '/usr/bin/chromium';
const ROUNDS = 5;
const LARGE_KEY = 'bench.key.5000';
const SMALL_KEY = 'bench.key.50';

interface Served {
  origin: string;
  token: string;
  child: ChildProcess;
}

interface PageTiming {
  ttfb: number;
  full: number;
}

export async function runServeBench(): Promise<void> {
  const large = mkdtempSync(join(tmpdir(), 'ae-state-bench-serve-large-'));
  const small = mkdtempSync(join(tmpdir(), 'ae-state-bench-serve-small-'));
  const servers: Served[] = [];
  try {
    const built = performance.now();
    buildStore(storeLayout(large, '.ae'));
    await buildSmallStore(small);
    process.stdout.write(`Built a store of 100,000 versions (10,000 keys × 10) and one of 1,000 (100 keys × 10) in ${((performance.now() - built) / 1000).toFixed(1)} s.\n\n`);
    const [bigServer, smallServer] = [await startServe(large), await startServe(small)];
    servers.push(bigServer, smallServer);
    const pages = {
      keys: '/',
      key: `/key?key=${LARGE_KEY}`,
      diff: `/diff?key=${LARGE_KEY}`,
    };
    const cold = { keys: await httpTiming(bigServer, pages.keys), key: await httpTiming(bigServer, pages.key), diff: await httpTiming(bigServer, pages.diff) };
    // Warm the small store's server too (jsondiffpatch loads on the first diff).
    await httpTiming(smallServer, `/key?key=${SMALL_KEY}`);
    await httpTiming(smallServer, `/diff?key=${SMALL_KEY}`);
    const samples = newSamples();
    const browser = await openBrowser();
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order, so drift in the machine's speed hits both sides alike.
      const steps: Array<() => Promise<void>> = [
        async () => push(samples, 'keys', await httpTiming(bigServer, pages.keys)),
        async () => push(samples, 'key', await httpTiming(bigServer, pages.key)),
        async () => push(samples, 'diff', await httpTiming(bigServer, pages.diff)),
        async () => push(samples, 'keySmall', await httpTiming(smallServer, `/key?key=${SMALL_KEY}`)),
        async () => push(samples, 'diffSmall', await httpTiming(smallServer, `/diff?key=${SMALL_KEY}`)),
        async () => void samples.cliStats.push(cliTime(large, ['stats'])),
        async () => void samples.cliVersions.push(cliTime(large, ['versions', '-k', LARGE_KEY])),
        async () => void samples.cliDiff.push(cliTime(large, ['diff', '-k', LARGE_KEY])),
      ];
      if (browser !== null) {
        steps.push(async () => void samples.loadKeys.push(await browser.load(bigServer, pages.keys)));
        steps.push(async () => void samples.loadKey.push(await browser.load(bigServer, pages.key)));
        steps.push(async () => void samples.loadDiff.push(await browser.load(bigServer, pages.diff)));
      }
      for (const step of round % 2 === 0 ? steps : steps.slice().reverse()) await step();
    }
    await browser?.close();
    printResults(samples, cold, browser !== null);
  } finally {
    for (const server of servers) server.child.kill('SIGTERM');
    rmSync(large, { recursive: true, force: true });
    rmSync(small, { recursive: true, force: true });
  }
}

function newSamples() {
  const list = () => [] as number[];
  return {
    keysTtfb: list(), keysFull: list(), keyTtfb: list(), keyFull: list(), diffTtfb: list(), diffFull: list(),
    keySmallTtfb: list(), keySmallFull: list(), diffSmallTtfb: list(), diffSmallFull: list(),
    cliStats: list(), cliVersions: list(), cliDiff: list(), loadKeys: list(), loadKey: list(), loadDiff: list(),
  };
}
type Samples = ReturnType<typeof newSamples>;

function push(samples: Samples, page: 'keys' | 'key' | 'diff' | 'keySmall' | 'diffSmall', timing: PageTiming): void {
  samples[`${page}Ttfb`].push(timing.ttfb);
  samples[`${page}Full`].push(timing.full);
}

function printResults(s: Samples, cold: Record<'keys' | 'key' | 'diff', PageTiming>, hasBrowser: boolean): void {
  const m = (values: number[]) => median(values);
  const load = (values: number[]) => (hasBrowser ? fmt(m(values), 1) : 'no browser');
  const loadRatio = (values: number[], cli: number[]) => (hasBrowser ? ratio(m(values) / m(cli)) : '-');
  printTable(
    ['page (100,000 versions)', 'TTFB ms', 'body ms', 'browser load ms', 'first request ms', 'CLI command', 'CLI ms', 'body vs CLI', 'load vs CLI', 'first vs CLI', 'target'],
    [
      ['keys (first 50 of 10,000 keys)', fmt(m(s.keysTtfb), 1), fmt(m(s.keysFull), 1), load(s.loadKeys), fmt(cold.keys.full, 1), 'stats', fmt(m(s.cliStats), 1), ratio(m(s.keysFull) / m(s.cliStats)), loadRatio(s.loadKeys, s.cliStats), ratio(cold.keys.full / m(s.cliStats)), '≤ 2x'],
      ['one key (timeline + newest data)', fmt(m(s.keyTtfb), 1), fmt(m(s.keyFull), 1), load(s.loadKey), fmt(cold.key.full, 1), 'versions -k', fmt(m(s.cliVersions), 1), ratio(m(s.keyFull) / m(s.cliVersions)), loadRatio(s.loadKey, s.cliVersions), ratio(cold.key.full / m(s.cliVersions)), '≤ 2x'],
      ['diff (previous → newest)', fmt(m(s.diffTtfb), 1), fmt(m(s.diffFull), 1), load(s.loadDiff), fmt(cold.diff.full, 1), 'diff -k', fmt(m(s.cliDiff), 1), ratio(m(s.diffFull) / m(s.cliDiff)), loadRatio(s.loadDiff, s.cliDiff), ratio(cold.diff.full / m(s.cliDiff)), '≤ 2x'],
    ],
  );
  printTable(
    ['page about one key', '1,000 versions ms', '100,000 versions ms', 'large vs small', 'target'],
    [
      ['key page (body)', fmt(m(s.keySmallFull), 2), fmt(m(s.keyFull), 2), ratio(m(s.keyFull) / m(s.keySmallFull)), '≈ 1x (no growth with the store)'],
      ['diff page (body)', fmt(m(s.diffSmallFull), 2), fmt(m(s.diffFull), 2), ratio(m(s.diffFull) / m(s.diffSmallFull)), '≈ 1x (no growth with the store)'],
    ],
  );
  process.stdout.write(
    'First request: the server\'s first answer for that page after it started (caches cold). The keys listing is then kept until some process writes.\n' +
      'CLI: a whole `ae-state` process; `stats` is the CLI command that covers every key, as the keys listing does (it reads the statistics index, refreshed where the store changed).\n',
  );
  if (!hasBrowser) process.stdout.write(`No browser at ${CHROMIUM}: browser load times not measured (apt-get install chromium).\n`);
}

/** 100 keys × 10 versions through transactions, the shape of the large store. */
async function buildSmallStore(root: string): Promise<void> {
  const manager = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
  for (let v = 1; v <= 10; v++) {
    await manager.withTransaction(async (tx) => {
      for (let k = 0; k < 100; k++) {
        const logicalKey = `bench.key.${k}`;
        await tx.saveSSOT(logicalKey, { key: logicalKey, version: v, body: `specification text ${k}-${v} `.repeat(8) }, { source: 'bench' });
      }
    });
  }
  await manager.shutdown();
}

function startServe(root: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, '--root', root, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`ae-state serve exited (${code})`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /(http:\/\/\S+)\/\?token=(\S+)/.exec(out);
      if (match === null) return;
      child.removeAllListeners('exit');
      resolve({ origin: match[1]!, token: match[2]!, child });
    });
  });
}

async function httpTiming(server: Served, path: string): Promise<PageTiming> {
  const start = performance.now();
  const response = await fetch(`${server.origin}${path}`, { headers: { authorization: `Bearer ${server.token}` } });
  const ttfb = performance.now() - start;
  const body = await response.text();
  if (response.status !== 200 || body.length === 0) throw new Error(`GET ${path}: ${response.status}`);
  return { ttfb, full: performance.now() - start };
}

function cliTime(root: string, args: string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, [CLI, '--root', root, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  // diff exits 1 for "different".
  if (result.status !== 0 && !(args[0] === 'diff' && result.status === 1)) throw new Error(`ae-state ${args.join(' ')} exited ${result.status}`);
  return performance.now() - start;
}

interface BenchBrowser {
  load(server: Served, path: string): Promise<number>;
  close(): Promise<void>;
}

/** Headless Chromium with the token cookie set, or null when the machine has none. */
async function openBrowser(): Promise<BenchBrowser | null> {
  if (!existsSync(CHROMIUM)) return null;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  const entered = new Set<string>();
  return {
    async load(server, path) {
      if (!entered.has(server.origin)) {
        await page.goto(`${server.origin}/health?token=${server.token}`);
        entered.add(server.origin);
      }
      await page.goto(`${server.origin}${path}`, { waitUntil: 'load' });
      // Evaluated in the page (no DOM types here): from navigation start to the end of the load event.
      return page.evaluate<number>("(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; })()");
    },
    close: () => browser.close(),
  };
}
