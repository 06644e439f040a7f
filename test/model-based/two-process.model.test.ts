/**
 * Two processes run random command lists against one store at the same time,
 * so their saves (alone, or several started together), transactions and
 * garbage collections interleave. The
 * store must match some serialisation of what they did: per key, versions
 * numbered 1..n without gaps in timestamp order, exactly the acknowledged
 * saves (with their data) and nothing rolled back; every load returns
 * something one of them saved; fsck finds no error.
 */
import fc from 'fast-check';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { REPO_ROOT, tempProject } from '../helpers.js';

const LONG = process.env.AE_STATE_LONG === '1';
const NUM_RUNS = LONG ? 1000 : 100;
const KEYS = ['data', 'd\u0430ta', 'spec'];

type Command =
  | { op: 'save'; key: string; data: unknown }
  | { op: 'saves'; saves: Array<{ key: string; data: unknown }> }
  | { op: 'tx'; saves: Array<{ key: string; data: unknown }>; commit: boolean }
  | { op: 'load'; key: string }
  | { op: 'gc' };

interface Answer {
  ok: boolean;
  keys?: string[];
  data?: unknown;
  code?: string;
  message?: string;
}

class Worker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<{ resolve: (answer: Answer) => void; reject: (error: Error) => void }> = [];
  private stderr = '';

  constructor() {
    this.child = spawn(process.execPath, [join(REPO_ROOT, 'test', 'fixtures', 'model-worker.mjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.resolve(JSON.parse(line) as Answer));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    // A worker that dies must fail the test, not leave it waiting for an answer.
    this.child.on('exit', (code, signal) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`worker exited (${code ?? signal}): ${this.stderr}`));
    });
  }

  send(command: object): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(command)}\n`);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.on('close', () => resolve());
      this.child.stdin.end();
    });
  }
}

let workers: Worker[] = [];
const tally = { sequences: 0, commands: 0, acknowledgedSaves: 0 };

beforeAll(() => {
  workers = [new Worker(), new Worker()];
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  console.log(`two-process model: ${tally.sequences} sequences, ${tally.commands} commands, ${tally.acknowledgedSaves} acknowledged saves, none lost`);
});

/** Data that names who saved it, so every version can be traced to its save. */
function commandList(worker: number): fc.Arbitrary<Command[]> {
  const key = fc.constantFrom(...KEYS);
  const pad = fc.nat(200).map((n) => 'x'.repeat(n));
  const data = fc.tuple(fc.nat(1_000_000), pad).map(([n, text]) => ({ worker, n, text }));
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('save' as const), key, data }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('saves' as const), saves: fc.array(fc.record({ key, data }), { minLength: 2, maxLength: 6 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('tx' as const), saves: fc.array(fc.record({ key, data }), { minLength: 1, maxLength: 3 }), commit: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('load' as const), key }) },
    { weight: 1, arbitrary: fc.constant({ op: 'gc' as const }) },
  );
  return fc.array(command, { minLength: 1, maxLength: 12 });
}

async function runWorker(worker: Worker, commands: Command[], saved: Map<string, unknown>, loads: Array<{ key: string; data: unknown }>) {
  for (const command of commands) {
    tally.commands++;
    const answer = await worker.send(command);
    expect(answer, answer.message).toMatchObject({ ok: true });
    if (command.op === 'load') loads.push({ key: command.key, data: answer.data });
    const datas =
      command.op === 'save' ? [command.data] : command.op === 'saves' || (command.op === 'tx' && command.commit) ? command.saves.map((s) => s.data) : [];
    // A transaction's keys come back in the order of its saves, as do those of saves started together.
    answer.keys?.forEach((fullKey, i) => saved.set(fullKey, datas[i]));
    if (command.op === 'saves') {
      // Saves started together are published in the order they were made.
      for (const key of KEYS) {
        const ofKey = answer.keys!.filter((_, i) => command.saves[i]!.key === key);
        expect(ofKey).toEqual([...ofKey].sort());
      }
    }
  }
}

describe('two processes on one store', () => {
  it(`match a serialisation of what both did, over ${NUM_RUNS} random interleavings`, async () => {
    await fc.assert(
      fc.asyncProperty(commandList(0), commandList(1), async (first, second) => {
        tally.sequences++;
        const root = await tempProject('ae-state-2proc-');
        await Promise.all(workers.map((w) => w.send({ op: 'open', root })));
        const saved = new Map<string, unknown>();
        const loads: Array<{ key: string; data: unknown }> = [];
        await Promise.all([runWorker(workers[0]!, first, saved, loads), runWorker(workers[1]!, second, saved, loads)]);
        tally.acknowledgedSaves += saved.size;
        await checkSerialisable(root, saved, loads, [...first, ...second]);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

async function checkSerialisable(root: string, saved: Map<string, unknown>, loads: Array<{ key: string; data: unknown }>, commands: Command[]) {
  const manager = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 100000 });
  const found = new Map<string, unknown>();
  for (const key of KEYS) {
    const versions = (await manager.getVersions(key)).reverse();
    expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
    const timestamps = versions.map((v) => v.timestamp);
    expect([...timestamps].sort()).toEqual(timestamps);
    expect(new Set(timestamps).size).toBe(timestamps.length);
    for (const v of versions) found.set(v.key, await manager.loadSSOT(key, v.version));
  }
  expect(Object.fromEntries(found)).toEqual(Object.fromEntries(saved));
  const everSaved = commands.flatMap((c) => (c.op === 'save' ? [c] : c.op === 'tx' || c.op === 'saves' ? c.saves : []));
  for (const load of loads) {
    if (load.data !== null) expect(everSaved.filter((s) => s.key === load.key).map((s) => s.data)).toContainEqual(load.data);
  }
  const report = await manager.fsck();
  expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
  await manager.shutdown();
}
