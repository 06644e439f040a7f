/**
 * CLI start-up beside `node -e 0` and a tiny SQLite-backed CLI doing the
 * same load, on stores of 10,000 versions: the bundled CLI (bin/ae-state.js)
 * and, for other commands, the unbundled per-file build it replaced, so a
 * command whose start-up grew shows. Interleaved rounds, medians.
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EnhancedStateManager } from '../src/index.js';
import { benchDir, fmt, median, printTable, ratio, REPO_ROOT, sampleAeIr } from './fixtures.js';
import { SqliteStore, type Payload } from './peer-stores.js';

const VERSIONS = 10_000;
const KEY = 'prefill.key42';
const BUNDLED = join(REPO_ROOT, 'bin', 'ae-state.js');
const UNBUNDLED = join(REPO_ROOT, 'dist', 'bench', 'unbundled-cli.js');
const SQLITE_CLI = join(REPO_ROOT, 'dist', 'bench', 'sqlite-load-cli.js');

/** count/10 keys of 10 versions each, in transactions of 100, in ae-state and in SQLite. */
async function fillStores(root: string, dbFile: string): Promise<void> {
  const manager = new EnhancedStateManager(root, { gcInterval: 0 });
  const doc = sampleAeIr();
  const db = new SqliteStore(dbFile);
  for (let done = 0; done < VERSIONS; done += 100) {
    const batch: Payload[] = [];
    await manager.withTransaction(async (tx) => {
      for (let i = done; i < done + 100; i++) {
        const data = { ...doc, revision: i };
        batch.push({ logicalKey: `prefill.key${Math.floor(i / 10)}`, bytes: Buffer.from(JSON.stringify(data)) });
        await tx.saveSSOT(`prefill.key${Math.floor(i / 10)}`, data);
      }
    });
    db.saveMany(batch);
  }
  db.close();
  await manager.shutdown();
}

interface Probe {
  label: string;
  args: string[];
}

function run(cwd: string, args: string[]): { ms: number; stdout: string } {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}

export async function runPeerStartup(rounds: number): Promise<void> {
  const dir = await benchDir('peer-startup');
  const root = join(dir, 'store');
  const dbFile = join(dir, 'peer.sqlite');
  await fillStores(root, dbFile);
  const commands: Array<[string, string[]]> = [['load -k KEY', ['load', '-k', KEY]], ['versions -k KEY', ['versions', '-k', KEY]], ['--help', ['--help']]];
  const probes: Probe[] = [
    { label: 'node -e 0', args: ['-e', '0'] },
    { label: 'SQLite CLI load (better-sqlite3, verified)', args: [SQLITE_CLI, dbFile, KEY] },
    ...commands.flatMap(([name, args]): Probe[] => [
      { label: `ae-state ${name}`, args: [BUNDLED, ...args] },
      { label: `ae-state ${name}, unbundled build`, args: [UNBUNDLED, ...args] },
    ]),
  ];
  const times: number[][] = probes.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const outputs = probes.map((probe, i) => {
      const { ms, stdout } = run(root, probe.args);
      times[i]!.push(ms);
      return stdout;
    });
    // The bundle must print what the per-file build prints, byte for byte.
    for (let i = 2; i < probes.length; i += 2) {
      if (outputs[i] !== outputs[i + 1]) throw new Error(`${probes[i]!.label}: bundled and unbundled output differ`);
    }
    if (JSON.parse(outputs[1]!).revision !== JSON.parse(outputs[2]!).revision) throw new Error('SQLite CLI and ae-state load differ');
  }
  const node = median(times[0]!);
  // The ratio moves with the hour (what a start adds is nearly fixed, node's own start is not): the difference is printed too.
  printTable(
    [`process (store of 10,000 versions)`, `wall ms (median of ${rounds})`, 'ms beyond node -e 0', 'ratio to node -e 0'],
    probes.map((probe, i) => [probe.label, fmt(median(times[i]!), 1), fmt(median(times[i]!) - node, 1), ratio(median(times[i]!) / node)]),
  );
  await rm(dir, { recursive: true, force: true });
}
