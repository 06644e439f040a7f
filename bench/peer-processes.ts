/**
 * The peer rows that need processes of their own: several writers started
 * together, and fsyncs counted by strace for SQLite, whose calls do not go
 * through a file system the benchmark can wrap.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, median, REPO_ROOT } from './fixtures.js';

const CHILD = join(REPO_ROOT, 'dist', 'bench', 'peers-child.js');

export function hasStrace(): boolean {
  return spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
}

function straceCalls(args: string[], out: string): number {
  const result = spawnSync('strace', ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-o', out, process.execPath, CHILD, ...args], {
    env: { ...process.env, AE_BENCH_NO_WAIT: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (result.status !== 0) throw new Error(`strace ${args.join(' ')} failed: ${result.stderr}`);
  const total = readFileSync(out, 'utf8').split('\n').find((line) => line.trim().endsWith(' total'));
  return total === undefined ? 0 : Number(total.trim().split(/\s+/)[3]);
}

/**
 * fsyncs a SQLite save (or one `count`-save transaction, for `batch`) makes,
 * counted with strace: a run of `count` saves minus a run of none, which
 * leaves out opening the database.
 */
export async function fsyncsUnderStrace(dir: string, mode: 'single' | 'batch', count: number): Promise<string> {
  if (!hasStrace()) return 'n/a';
  const file = join(dir, `strace-${mode}.sqlite`);
  const out = join(dir, 'strace.txt');
  straceCalls(['sqlite', file, 'k', '1'], out);
  const base = straceCalls(['sqlite', file, 'k', '0'], out);
  const work = straceCalls(['sqlite', file, 'k', String(count), mode === 'batch' ? 'batch' : 'single'], out);
  return fmt((work - base) / (mode === 'batch' ? 1 : count), 1);
}

/** Starts `processes` writers, lets them open their stores, then starts them together; wall ms per save. */
async function writersRound(kind: string, target: string, processes: number, saves: number): Promise<number> {
  const children = Array.from({ length: processes }, (_, p) =>
    spawn(process.execPath, [CHILD, kind, target, `bench.writer${p}`, String(saves)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const said = (child: (typeof children)[number], word: string) =>
    new Promise<void>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer) => {
        text += chunk;
        if (text.includes(`${word}\n`)) {
          child.stdout.off('data', onData);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`${kind} writer exited ${code}`))));
    });
  await Promise.all(children.map((child) => said(child, 'ready')));
  const start = performance.now();
  const done = Promise.all(children.map((child) => said(child, 'done')));
  for (const child of children) child.stdin.write('go\n');
  await done;
  const elapsed = performance.now() - start;
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
  return elapsed / (processes * saves);
}

/** Per-save wall time of `processes` concurrent writers for ae-state, SQLite and the raw loop, interleaved. */
export async function concurrentWriters(dir: string, processes: number, saves: number, rounds: number) {
  const ae: number[] = [], sqlite: number[] = [], raw: number[] = [];
  const rawDir = join(dir, 'raw-writers');
  for (let round = 0; round < rounds; round++) {
    ae.push(await writersRound('ae-state', join(dir, 'ae'), processes, saves));
    sqlite.push(await writersRound('sqlite', join(dir, 'peer.sqlite'), processes, saves));
    rmSync(rawDir, { recursive: true, force: true });
    mkdirSync(rawDir);
    raw.push(await writersRound('raw', rawDir, processes, saves));
  }
  return { ae: median(ae), sqlite: median(sqlite), raw: median(raw) };
}
