/**
 * Kills a writer with SIGKILL at random moments while it commits 20-save
 * transactions, then reopens the store: every acknowledged transaction must be
 * there in full, and no transaction may be there in part. The same for a
 * writer whose concurrent saves are published together (group commit):
 * every acknowledged save is there, and every commit is there in full; and
 * for a writer of single saves, one after another (each its own commit).
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { REPO_ROOT, tempProject } from '../helpers.js';

const WRITER = join(REPO_ROOT, 'test', 'fixtures', 'tx-writer.mjs');
const BATCH_WRITER = join(REPO_ROOT, 'test', 'fixtures', 'batch-writer.mjs');
const SAVE_WRITER = join(REPO_ROOT, 'test', 'fixtures', 'save-writer.mjs');
// `npm run test:long` (AE_STATE_LONG=1) kills the writer at 1,000 points.
const KILL_POINTS = Number(process.env.AE_STATE_KILL_POINTS ?? (process.env.AE_STATE_LONG === '1' ? 1000 : 100));
// Each kill point takes up to about two seconds on a busy machine (a child process, then a reopen).
const TIMEOUT_MS = Math.max(120_000, KILL_POINTS * 2_500);
const SAVES_PER_TX = 20;
const KEYS = 5;

interface Ack {
  n: number;
  keys: string[];
}

/** Runs one writer until a random moment after it is ready, kills it, returns its acknowledgements. */
function runAndKill(root: string, round: number, delayMs: number, args = [WRITER, root, `w${round}`, '1000', String(SAVES_PER_TX), String(SAVES_PER_TX)]): Promise<Ack[]> {
  return killAfter(args, delayMs);
}

function killAfter<T>(args: string[], delayMs: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args);
    const acks: T[] = [];
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), delayMs);
        else if (line.startsWith('ack ')) acks.push(JSON.parse(line.slice(4)) as T);
      }
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}: ${stderr}`));
      else resolve(acks);
    });
  });
}

/** After the kills: every key numbered 1..n without a gap, its newest versions reading back verified, every acknowledged save present. */
async function expectAcknowledgedSaves(manager: EnhancedStateManager, keys: number, acknowledged: ReadonlySet<string>): Promise<void> {
  const present = new Set<string>();
  for (let i = 0; i < keys; i++) {
    const versions = await manager.getVersions(`key${i}`);
    expect(versions.map((v) => v.version)).toEqual(versions.map((_, j) => versions.length - j));
    for (const v of versions) present.add(v.key);
    for (const v of versions.slice(0, 3)) await manager.loadSSOT(`key${i}`, v.version);
  }
  for (const key of acknowledged) expect(present.has(key), `acknowledged ${key} is missing`).toBe(true);
  expect(acknowledged.size).toBeGreaterThan(0);
}

describe('crash safety', () => {
  it(`keeps every acknowledged transaction whole and no unacknowledged one in part, over ${KILL_POINTS} SIGKILLs`, async () => {
    const root = await tempProject();
    const acknowledged = new Set<string>();
    let pseudoRandom = 12345;
    for (let round = 0; round < KILL_POINTS; round++) {
      pseudoRandom = (pseudoRandom * 1103515245 + 12345) % 2 ** 31;
      const acks = await runAndKill(root, round, pseudoRandom % 250);
      for (const ack of acks) for (const key of ack.keys) acknowledged.add(key);

      const manager = new EnhancedStateManager(root, { maxVersions: 100000, gcInterval: 0 });
      const latest = await Promise.all(
        Array.from({ length: SAVES_PER_TX }, (_, i) => manager.loadSSOT<{ writer: string; n: number }>(`key${i}`)),
      );
      // All-or-nothing: the newest version of every key comes from the same transaction.
      const origins = new Set(latest.map((value) => (value === null ? 'none' : `${value.writer}/${value.n}`)));
      expect(origins.size, `round ${round}: keys come from ${[...origins].join(', ')}`).toBe(1);
      await manager.shutdown();
    }

    // No acknowledged save was lost, and versions are gapless per key.
    const manager = new EnhancedStateManager(root, { maxVersions: 100000, gcInterval: 0 });
    await expectAcknowledgedSaves(manager, SAVES_PER_TX, acknowledged);
    await manager.shutdown();
    expect(await readdir(join(root, '.ae', 'local', 'tmp'))).toEqual([]);
  }, TIMEOUT_MS);

  it(`keeps every acknowledged save of concurrent batches and every commit whole, over ${Math.ceil(KILL_POINTS / 2)} SIGKILLs`, async () => {
    const root = await tempProject();
    const acknowledged = new Set<string>();
    let pseudoRandom = 54321;
    for (let round = 0; round < Math.ceil(KILL_POINTS / 2); round++) {
      pseudoRandom = (pseudoRandom * 1103515245 + 12345) % 2 ** 31;
      const args = [BATCH_WRITER, root, `b${round}`, '1000', String(SAVES_PER_TX)];
      const acks = await runAndKill(root, round, pseudoRandom % 250, args);
      for (const ack of acks) for (const key of ack.keys) acknowledged.add(key);

      // Every commit that is there is there in full: each of its versions is visible and reads back.
      const manager = new EnhancedStateManager(root, { maxVersions: 100000, gcInterval: 0 });
      const visible = new Set<string>();
      for (let i = 0; i < SAVES_PER_TX; i++) for (const v of await manager.getVersions(`key${i}`)) visible.add(v.key);
      for (const commit of await manager.getLog(3)) {
        for (const op of commit.operations) expect(visible.has(op.fullKey), `round ${round}: ${op.fullKey} of commit ${commit.id}`).toBe(true);
        const newest = commit.operations.at(-1)!;
        expect(await manager.loadSSOT(newest.logicalKey, newest.version)).not.toBeNull();
      }
      await manager.shutdown();
    }

    const manager = new EnhancedStateManager(root, { maxVersions: 100000, gcInterval: 0 });
    await expectAcknowledgedSaves(manager, SAVES_PER_TX, acknowledged);
    // The kills did land in batches: commits of several saves.
    expect((await manager.getLog()).some((commit) => commit.operations.length > 1)).toBe(true);
    expect((await manager.fsck()).ok).toBe(true);
    await manager.shutdown();
    expect(await readdir(join(root, '.ae', 'local', 'tmp'))).toEqual([]);
  }, TIMEOUT_MS);

  it(`keeps every acknowledged single save, numbered without a gap, over ${KILL_POINTS} SIGKILLs of a writer saving one after another`, async () => {
    // Sequential saves keep the lock across a burst: a writer killed while it
    // holds it (between saves too) must not block the next one.
    const root = await tempProject();
    const acknowledged = new Set<string>();
    let pseudoRandom = 54321;
    for (let round = 0; round < KILL_POINTS; round++) {
      pseudoRandom = (pseudoRandom * 1103515245 + 12345) % 2 ** 31;
      const acks = await killAfter<{ key: string }>([SAVE_WRITER, root, `s${round}`, '100000', String(KEYS)], pseudoRandom % 250);
      for (const ack of acks) acknowledged.add(ack.key);
    }
    const manager = new EnhancedStateManager(root, { maxVersions: 100000, gcInterval: 0 });
    await expectAcknowledgedSaves(manager, KEYS, acknowledged);
    expect((await manager.fsck()).ok).toBe(true);
    await manager.shutdown();
    expect(await readdir(join(root, '.ae', 'local', 'tmp'))).toEqual([]);
  }, TIMEOUT_MS);
});
