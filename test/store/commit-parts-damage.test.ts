/**
 * A commit in parts damaged anywhere: bit flips spread over its head, its
 * parts and its tail, cuts and an added byte. A fresh process reading every
 * version gets the right data or a typed error, never other data and never
 * a version silently gone, and fsck reports the damage.
 */
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAeStateError } from '../../src/errors.js';
import { EnhancedStateManager } from '../../src/index.js';
import { decodeCommitHead } from '../../src/model/commit-parts.js';

const KEYS = 300;
const OPTIONS = { gcInterval: 0, recordGitProvenance: false } as const;
const keyOf = (i: number) => `spec.part${i}`;

let template = '';
let commitFile = '';

beforeAll(async () => {
  // Not a tempProject: those go after each test, and every test reads this one.
  template = await mkdtemp(join(tmpdir(), 'ae-state-parts-'));
  const m = new EnhancedStateManager(template, OPTIONS);
  await m.withTransaction(async (tx) => {
    for (let i = 0; i < KEYS; i++) await tx.saveSSOT(keyOf(i), { i, text: `version of key ${i}` });
  });
  await m.shutdown();
  const [name] = await readdir(join(template, '.ae', 'commits'));
  commitFile = join('.ae', 'commits', name!);
}, 60_000);

afterAll(() => rm(template, { recursive: true, force: true }));

/**
 * Reads every version in a fresh manager with the commit file edited: how
 * many came back right, refused, wrong or missing, and whether fsck saw
 * damage. The one store is edited and put back each time (a new file each
 * way, and no ref checks left, so no reader trusts what it checked before).
 */
async function readDamaged(edit: (bytes: Buffer) => Buffer) {
  const root = template;
  const path = join(root, commitFile);
  const original = await readFile(path);
  await replaceFile(path, edit(original));
  await rm(join(root, '.ae', 'local', 'checked'), { recursive: true, force: true });
  try {
    return await readAll(root);
  } finally {
    await replaceFile(path, original);
  }
}

async function replaceFile(path: string, bytes: Buffer): Promise<void> {
  await writeFile(`${path}.new`, bytes);
  await rename(`${path}.new`, path);
}

async function readAll(root: string) {
  const m = new EnhancedStateManager(root, OPTIONS);
  const result = { right: 0, refused: 0, wrong: 0, missing: 0, fsckOk: true };
  try {
    for (let i = 0; i < KEYS; i++) {
      try {
        const data = (await m.loadSSOT(keyOf(i))) as { i: number } | null;
        if (data === null) result.missing++;
        else if (data.i === i) result.right++;
        else result.wrong++;
      } catch (error) {
        if (!isAeStateError(error)) throw error;
        result.refused++;
      }
    }
    result.fsckOk = (await m.fsck()).ok;
  } finally {
    await m.shutdown();
  }
  return result;
}

describe('a damaged commit in parts', () => {
  it('is written in parts', async () => {
    const bytes = await readFile(join(template, commitFile));
    expect(decodeCommitHead(bytes)?.parts.length).toBe(3);
  });

  it('never yields other data or a missing version, and fsck reports every change of its bytes', async () => {
    const bytes = await readFile(join(template, commitFile));
    const head = decodeCommitHead(bytes)!;
    // Every part's first and middle bytes, the head's start, its parts list and its end, the tail, and spread offsets.
    const offsets = new Set<number>([0, 5, head.length - 1, head.length - 20, bytes.length - 1, bytes.length - 4, bytes.length - 7]);
    for (const [n, at] of head.offsets.entries()) [at, at + 1, at + Math.floor(head.parts[n]!.bytes / 2)].forEach((o) => offsets.add(o));
    for (let i = 1; i < 6; i++) offsets.add(Math.floor((bytes.length * i) / 6));
    const edits: Array<[string, (b: Buffer) => Buffer]> = [...offsets].map((offset) => [
      `flip of byte ${offset}`,
      (b) => {
        const edited = Buffer.from(b);
        edited[offset] ^= 1 << offset % 8;
        return edited;
      },
    ]);
    for (const length of [0, head.length, head.offsets[1]!, bytes.length - 1]) edits.push([`cut to ${length} bytes`, (b) => b.subarray(0, length)]);
    edits.push(['one byte added', (b) => Buffer.concat([b, Buffer.from(' ')])]);
    const failures: string[] = [];
    for (const [what, edit] of edits) {
      const result = await readDamaged(edit);
      if (result.wrong > 0) failures.push(`${what}: ${result.wrong} read other data`);
      if (result.missing > 0) failures.push(`${what}: ${result.missing} missing`);
      if (result.refused === 0) failures.push(`${what}: nothing refused`);
      if (result.fsckOk) failures.push(`${what}: fsck missed it`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('still answers for the parts a flip did not touch', async () => {
    const bytes = await readFile(join(template, commitFile));
    const head = decodeCommitHead(bytes)!;
    const inLastPart = head.offsets[2]! + 10;
    const result = await readDamaged((b) => {
      const edited = Buffer.from(b);
      edited[inLastPart] ^= 1;
      return edited;
    });
    expect(result.refused).toBe(head.parts[2]!.operations);
    expect(result.right).toBe(KEYS - head.parts[2]!.operations);
    expect(result.fsckOk).toBe(false);
  }, 60_000);
});
