/**
 * Every kind of store file damaged in every class of byte position: single
 * bit flips across refs, commits, tags and the format marker (every field,
 * key names and punctuation included), flips in gzip headers, bodies and
 * trailers of objects, truncation, deletion, and a file replaced by its
 * sibling. For each mutation: reads return the right data and metadata or a
 * typed error; fsck reports every damaging mutation; the next save deletes
 * no ref a commit lists; `fsck --repair` loses no version that was intact.
 */
import { cp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAeStateError } from '../../src/errors.js';
import { EnhancedStateManager } from '../../src/index.js';
import { keyDirName, parseFullKey, timestampToFileStem } from '../../src/model/keys.js';
import { parseCommitRecord } from '../../src/store/commits.js';
import { readAeIr, tempProject } from '../helpers.js';

const KEYS = ['spec', 'small', 'other', 'tx-a', 'tx-b'];
const OPTIONS = { gcInterval: 0, recordGitProvenance: false } as const;

type Expected = Map<string, Array<Record<string, unknown>>>;

interface Mutation {
  file: string;
  kind: string;
  apply(path: string): Promise<void>;
  /**
   * Deleting a whole ref or tag file looks exactly like retention removing
   * it (GC expiry, maxVersions, a deleted snapshot): such mutations are
   * counted apart and not held to the promises below.
   */
  isLikeRetention?: boolean;
  /** The store rewrites this file when it is missing (the FORMAT marker), so deleting it damages nothing. */
  isRecreated?: boolean;
}

interface Tally {
  mutations: number;
  damaging: number;
  refused: number;
  wrongData: number;
  silentlyMissing: number;
  fsckDetected: number;
  deletedByNextSave: number;
  lostByRepair: number;
  likeRetention: number;
}

let template = '';
let expected: Expected;
let snapshotId = '';

/** An entry as a reader sees it, without the read time. */
function comparable(entry: Record<string, unknown> | null): Record<string, unknown> | null {
  if (entry === null) return null;
  const { metadata, ...rest } = entry as { metadata: Record<string, unknown> };
  const { accessed: _accessed, ...kept } = metadata;
  return { ...rest, metadata: kept };
}

async function buildTemplate(): Promise<void> {
  template = await tempProject('ae-state-corruption-');
  const m = new EnhancedStateManager(template, OPTIONS);
  const aeir = await readAeIr();
  await m.saveSSOT('spec', aeir, { phase: 'phase-1', tags: { owner: 'a' }, ttl: 86_400, source: 'first' });
  await m.saveSSOT('spec', { ...aeir, version: '2' }, { phase: 'phase-1', tags: { owner: 'b' }, source: 'second' });
  await m.saveSSOT('small', { n: 1 }, { ttl: 3_600 });
  await m.saveSSOT('spec', { ...aeir, version: '3' }, { phase: 'phase-2' });
  await m.saveSSOT('small', { n: 2 }, { tags: { t: 'x' } });
  const tx = await m.beginTransaction();
  await m.saveSSOT('tx-a', { a: 1 }, { transactionId: tx });
  await m.saveSSOT('tx-b', { b: 1 }, { transactionId: tx });
  await m.commitTransaction(tx);
  await m.saveSSOT('other', { o: 1 }, { phase: 'phase-1' });
  snapshotId = await m.createSnapshot('phase-1');
  expected = await readExpected(m);
  await m.shutdown();
}

async function readExpected(m: EnhancedStateManager): Promise<Expected> {
  const found: Expected = new Map();
  for (const key of KEYS) {
    const entries = [];
    for (const info of [...(await m.getVersions(key))].reverse()) entries.push(comparable((await m.loadEntry(key, info.version)) as never)!);
    found.set(key, entries);
  }
  return found;
}

/** How the reads of a damaged store turned out, version by version. */
async function readAll(m: EnhancedStateManager): Promise<{ intact: Set<string>; wrong: number; missing: number; refused: number }> {
  const result = { intact: new Set<string>(), wrong: 0, missing: 0, refused: 0 };
  const attempt = async <T>(read: () => Promise<T>): Promise<T | 'refused'> => {
    try {
      return await read();
    } catch (error) {
      if (!isAeStateError(error)) throw error;
      result.refused++;
      return 'refused';
    }
  };
  for (const [key, entries] of expected) {
    const listed = await attempt(() => m.getVersions(key));
    if (listed !== 'refused' && listed.length !== entries.length) result.missing += Math.max(0, entries.length - listed.length);
    for (const want of entries) {
      const entry = await attempt(() => m.loadEntry(key, want.version as number));
      if (entry === 'refused') continue;
      if (entry === null) result.missing++;
      else if (!isDeepStrictEqual(comparable(entry as never), want)) result.wrong++;
      else result.intact.add(want.id as string);
    }
    const latest = await attempt(() => m.loadEntry(key));
    if (latest !== 'refused' && !isDeepStrictEqual(comparable(latest as never), entries.at(-1))) {
      if (latest === null) result.missing++;
      else result.wrong++;
    }
  }
  const snapshot = await attempt(() => m.loadSnapshot(snapshotId));
  if (snapshot === null) result.missing++;
  else if (snapshot !== 'refused') {
    for (const [id, entry] of Object.entries(snapshot)) {
      const want = expected.get(parseFullKey(id)!.logicalKey)!.find((e) => e.id === id);
      if (!isDeepStrictEqual(comparable(entry as never), want)) result.wrong++;
    }
  }
  return result;
}

/** Every ref path that an intact commit file lists and that exists now. */
async function listedRefs(store: string): Promise<string[]> {
  const paths: string[] = [];
  for (const name of await readdir(join(store, 'commits')).catch(() => [] as string[])) {
    let commit;
    try {
      commit = parseCommitRecord(await readFile(join(store, 'commits', name)), name.replace(/\.json$/, ''), name);
    } catch {
      continue;
    }
    for (const op of commit.operations) {
      const parsed = parseFullKey(op.fullKey);
      if (parsed === null) continue;
      const path = join(store, 'refs', 'keys', keyDirName(op.logicalKey), `${timestampToFileStem(parsed.timestamp)}.json`);
      if (await stat(path).then(() => true, () => false)) paths.push(path);
    }
  }
  return paths;
}

function flip(offset: number, bit: number) {
  return async (path: string) => {
    const bytes = await readFile(path);
    bytes[offset] ^= 1 << bit;
    await writeFile(path, bytes);
  };
}

/** The files to damage, by kind: relative to the store. */
async function targets(store: string): Promise<Array<{ kind: string; file: string; sibling: string }>> {
  const refsOf = async (key: string) => (await readdir(join(store, 'refs', 'keys', key))).sort().map((n) => join('refs', 'keys', key, n));
  const specRefs = await refsOf('spec');
  const commits = (await readdir(join(store, 'commits'))).sort().map((n) => join('commits', n));
  const [tag] = await readdir(join(store, 'refs', 'tags'));
  const objectOf = (checksum: string) => join('objects', checksum.slice(0, 2), checksum.slice(2));
  const spec = expected.get('spec')!;
  const small = expected.get('small')!;
  const tagRecord = JSON.parse(await readFile(join(store, 'refs', 'tags', tag!), 'utf8')) as { tree: string };
  return [
    { kind: 'ref (middle version)', file: specRefs[1]!, sibling: specRefs[0]! },
    { kind: 'ref (newest version)', file: specRefs[2]!, sibling: specRefs[1]! },
    { kind: 'commit (older)', file: commits[1]!, sibling: commits[0]! },
    { kind: 'commit (transaction)', file: commits[5]!, sibling: commits[4]! },
    { kind: 'commit (newest)', file: commits.at(-1)!, sibling: commits.at(-2)! },
    { kind: 'tag', file: join('refs', 'tags', tag!), sibling: specRefs[0]! },
    { kind: 'object (gzip)', file: objectOf(spec[1]!.checksum as string), sibling: objectOf(spec[0]!.checksum as string) },
    { kind: 'object (plain)', file: objectOf(small[0]!.checksum as string), sibling: objectOf(small[1]!.checksum as string) },
    { kind: 'tree object', file: objectOf(tagRecord.tree), sibling: objectOf(small[0]!.checksum as string) },
    { kind: 'format marker', file: 'FORMAT', sibling: '.gitignore' },
  ];
}

async function mutations(store: string): Promise<Mutation[]> {
  const list: Mutation[] = [];
  for (const { kind, file, sibling } of await targets(store)) {
    const size = (await stat(join(store, file))).size;
    const isBinary = kind.startsWith('object') || kind === 'tree object';
    // Binary files: every header byte, spread body bytes and the whole trailer; text files: every fourth byte.
    const offsets = isBinary
      ? [...new Set([0, 1, 2, 3, 4, 8, 9, 10, Math.floor(size / 3), Math.floor(size / 2), size - 9, size - 8, size - 5, size - 4, size - 1])].filter((o) => o >= 0 && o < size)
      : Array.from({ length: Math.ceil(size / 4) }, (_, i) => i * 4);
    for (const offset of offsets) list.push({ file, kind: `${kind}: flip bit ${offset % 8} of byte ${offset}`, apply: flip(offset, offset % 8) });
    for (const length of [0, 1, Math.floor(size / 2), size - 1]) {
      list.push({ file, kind: `${kind}: truncated to ${length} bytes`, apply: async (p) => writeFile(p, (await readFile(p)).subarray(0, length)) });
    }
    list.push({
      file,
      kind: `${kind}: deleted`,
      apply: (p) => unlink(p),
      isLikeRetention: kind.startsWith('ref') || kind === 'tag',
      isRecreated: kind === 'format marker',
    });
    list.push({ file, kind: `${kind}: replaced by its sibling`, apply: async (p) => writeFile(p, await readFile(join(store, sibling))) });
  }
  return list;
}

/** Whether the damaged file still means exactly what it meant (a flip inside JSON whitespace, say). */
function isSameMeaning(before: Buffer, after: Buffer | null): boolean {
  if (after === null) return false;
  if (before.equals(after)) return true;
  try {
    const decode = (b: Buffer) => (b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b);
    const [a, b] = [decode(before), decode(after)];
    if (a.equals(b)) return true;
    return isDeepStrictEqual(JSON.parse(a.toString('utf8')), JSON.parse(b.toString('utf8')));
  } catch {
    return false;
  }
}

async function runMutation(mutation: Mutation, index: number, tally: Tally, failures: string[]): Promise<void> {
  const root = await tempProject('ae-state-mutated-');
  await cp(join(template, '.ae'), join(root, '.ae'), { recursive: true });
  const store = join(root, '.ae');
  const path = join(store, mutation.file);
  const original = await readFile(path);
  await mutation.apply(path);
  const damaged = !mutation.isRecreated && !isSameMeaning(original, await readFile(path).catch(() => null));
  if (mutation.isLikeRetention) {
    tally.likeRetention++;
    await rm(root, { recursive: true, force: true });
    return;
  }
  const m = new EnhancedStateManager(root, OPTIONS);
  try {
    const reads = await readAll(m);
    // fsck refusing to run at all (a damaged FORMAT marker) is a clear report too.
    const check = await m.fsck().catch((error: unknown) => {
      if (!isAeStateError(error)) throw error;
      return { ok: false, warnings: 0 };
    });
    tally.mutations++;
    if (damaged || reads.wrong + reads.missing + reads.refused > 0) tally.damaging++;
    const isDamaging = damaged || reads.wrong + reads.missing + reads.refused > 0;
    if (reads.wrong > 0) {
      tally.wrongData++;
      failures.push(`wrong data or metadata: ${mutation.kind}`);
    }
    if (reads.missing > 0) {
      tally.silentlyMissing++;
      failures.push(`version silently missing: ${mutation.kind}`);
    }
    if (isDamaging && reads.wrong === 0 && reads.missing === 0) tally.refused++;
    const detected = !check.ok || check.warnings > 0;
    if (isDamaging && detected) tally.fsckDetected++;
    if (isDamaging && !detected) failures.push(`fsck missed: ${mutation.kind}`);

    const listed = await listedRefs(store);
    for (const key of KEYS) await m.saveSSOT(key, { next: index }).catch((error: unknown) => {
      if (!isAeStateError(error)) throw error;
    });
    const deleted = (await Promise.all(listed.map((p) => stat(p).then(() => false, () => true)))).filter(Boolean).length;
    if (deleted > 0) {
      tally.deletedByNextSave++;
      failures.push(`next save deleted ${deleted} listed ref(s): ${mutation.kind}`);
    }

    await m.fsck({ repair: true }).catch((error: unknown) => {
      if (!isAeStateError(error)) throw error;
    });
    const repaired = await readAll(m);
    const lost = [...reads.intact].filter((id) => !repaired.intact.has(id));
    if (lost.length > 0) {
      tally.lostByRepair++;
      failures.push(`fsck --repair lost ${lost.join(', ')}: ${mutation.kind}`);
    }
  } finally {
    await m.shutdown();
    await rm(root, { recursive: true, force: true });
  }
}

describe('a damaged store', () => {
  beforeAll(buildTemplate, 60_000);
  afterAll(() => rm(template, { recursive: true, force: true }));

  it('never returns wrong data, fsck reports every damaging mutation, and neither the next save nor repair loses a committed version', async () => {
    const tally: Tally = {
      mutations: 0,
      damaging: 0,
      refused: 0,
      wrongData: 0,
      silentlyMissing: 0,
      fsckDetected: 0,
      deletedByNextSave: 0,
      lostByRepair: 0,
      likeRetention: 0,
    };
    const failures: string[] = [];
    const all = await mutations(join(template, '.ae'));
    for (const [index, mutation] of all.entries()) await runMutation(mutation, index, tally, failures);
    console.log(
      `corruption run: ${tally.mutations} mutations, ${tally.damaging} damaging, ${tally.refused} refused clearly, ` +
        `${tally.fsckDetected} detected by fsck, ${tally.wrongData} returned wrong data or metadata, ` +
        `${tally.silentlyMissing} lost a version silently, ${tally.deletedByNextSave} had a listed ref deleted by the next save, ` +
        `${tally.lostByRepair} lost an intact version in repair; ` +
        `${tally.likeRetention} deletions of a whole ref or tag file not counted (indistinguishable from retention)`,
    );
    expect(failures).toEqual([]);
    expect(tally.refused).toBe(tally.damaging);
    expect(tally.fsckDetected).toBe(tally.damaging);
  }, 900_000);
});
