import { readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager, IntegrityError } from '../../src/index.js';
import { readAeIr, tempProject } from '../helpers.js';

/** A store with a compressed AE-IR version and small uncompressed ones. */
async function populatedStore() {
  const root = await tempProject();
  const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
  const aeir = await readAeIr();
  await m.saveSSOT('spec', aeir, { phase: 'phase-1' });
  await m.saveSSOT('spec', { ...aeir, version: '2' });
  await m.saveSSOT('small', { n: 1 });
  await m.saveSSOT('other', { n: 2 });
  // A burst of saves keeps the lock file a moment after the last one: let it go, so snapshots see the store at rest.
  await (m as unknown as { ctx: { releaseWriteLock(): Promise<void> } }).ctx.releaseWriteLock();
  const store = m.storeDirectory;
  const objectOf = async (key: string, version?: number) => {
    const entry = (await m.loadEntry(key, version))!;
    return { path: join(store, 'objects', entry.checksum.slice(0, 2), entry.checksum.slice(2)), fullKey: entry.id };
  };
  const refOf = async (key: string) => {
    const dir = join(store, 'refs', 'keys', key);
    return join(dir, (await readdir(dir)).sort().at(-1)!);
  };
  return { root, m, aeir, store, objectOf, refOf };
}

async function flipBit(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset % bytes.length] ^= 0x10;
  await writeFile(path, bytes);
}

/** Every file of the store outside `local/`, whose lock and caches come and go while the store is read. */
async function snapshotFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const local = join(dir, 'local');
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.parentPath === local || entry.parentPath.startsWith(local + sep)) continue;
    if (entry.isFile()) files.set(join(entry.parentPath, entry.name), (await readFile(join(entry.parentPath, entry.name))).toString('base64'));
  }
  return files;
}

describe('fsck', () => {
  it('finds nothing wrong with a healthy store', async () => {
    const { m } = await populatedStore();
    const result = await m.fsck();
    expect(result).toMatchObject({ ok: true, errors: 0, warnings: 0, problems: [] });
    expect(result.checked).toMatchObject({ objects: 4, refs: 4, commits: 4 });
    await m.shutdown();
  });

  it('reports a flipped bit in a compressed object, and loadSSOT refuses it naming the key and the object', async () => {
    const { m, objectOf } = await populatedStore();
    const { path, fullKey } = await objectOf('spec');
    await flipBit(path, 200);
    const error = await m.loadSSOT('spec').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).data).toMatchObject({ key: fullKey, path });
    expect((error as Error).message).toContain(path);
    const result = await m.fsck();
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.path)).toContain(path);
    expect(result.problems.find((p) => p.path === path)!.code).toMatch(/^(invalid-gzip|corrupt-object)$/);
    expect(result.problems.some((p) => p.code === 'ref-to-corrupt-object' && p.key === fullKey)).toBe(true);
    expect(await m.loadSSOT('spec', 1)).toEqual(await readAeIr());
    await m.shutdown();
  });

  it('reports a flipped bit in an uncompressed object and a truncated one', async () => {
    const { m, objectOf } = await populatedStore();
    const small = await objectOf('small');
    const other = await objectOf('other');
    await flipBit(small.path, 3);
    await truncate(other.path, 2);
    for (const key of ['small', 'other']) {
      const error = await m.loadSSOT(key).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).data.key).toBe(key === 'small' ? small.fullKey : other.fullKey);
    }
    const codes = new Map((await m.fsck()).problems.map((p) => [p.path, p.code]));
    expect(codes.get(small.path)).toBe('corrupt-object');
    expect(codes.get(other.path)).toBe('corrupt-object');
    await m.shutdown();
  });

  it('reports a torn version record, a missing object and a broken commit, each with its path', async () => {
    const { m, store, objectOf, refOf } = await populatedStore();
    const tornRef = await refOf('small');
    await writeFile(tornRef, (await readFile(tornRef)).subarray(0, 40));
    const missing = await objectOf('other');
    await unlink(missing.path);
    const commits = (await readdir(join(store, 'commits'))).sort();
    const brokenCommit = join(store, 'commits', commits[0]!);
    await writeFile(brokenCommit, (await readFile(brokenCommit, 'utf8')).replace('"save', '"SAVE'));
    const result = await m.fsck();
    expect(result.ok).toBe(false);
    const found = result.problems.map((p) => [p.code, p.path]);
    expect(found).toContainEqual(['invalid-ref', tornRef]);
    expect(found).toContainEqual(['missing-object', await refOf('other')]);
    expect(found).toContainEqual(['invalid-commit', brokenCommit]);
    await m.shutdown();
  });

  it('reports a commit whose parent is gone, and the refs that name the missing commit, as errors', async () => {
    const { m, store } = await populatedStore();
    const commits = (await readdir(join(store, 'commits'))).sort();
    await unlink(join(store, 'commits', commits[1]!));
    const result = await m.fsck();
    expect(result.problems.map((p) => [p.code, p.severity]).sort()).toEqual([['missing-commit', 'error'], ['missing-parent', 'error']]);
    expect(result.problems.find((p) => p.code === 'missing-parent')!.path).toBe(join(store, 'commits', commits[2]!));
    await m.shutdown();
  });
});

describe('fsck --repair', () => {
  it('moves damaged files aside, never touches intact data, and leaves a clean store', async () => {
    const { m, store, aeir, objectOf, refOf } = await populatedStore();
    const corrupt = await objectOf('spec');
    const tornRef = await refOf('small');
    await flipBit(corrupt.path, 100);
    await writeFile(tornRef, '{"format":1,');
    const damaged = new Set([corrupt.path, tornRef, await refOf('spec')]);
    const before = await snapshotFiles(store);
    const result = await m.fsck({ repair: true });
    expect(result.ok).toBe(true);
    // The torn ref is rebuilt from its commit; the ref to the corrupt object cannot be.
    expect(result.problems.map((p) => [p.code, p.repaired]).sort()).toEqual([
      ['invalid-gzip', 'moved-aside'],
      ['invalid-ref', 'restored'],
      ['ref-to-corrupt-object', 'moved-aside'],
    ]);
    const after = await snapshotFiles(store);
    for (const [path, content] of before) {
      if (damaged.has(path)) continue;
      expect(after.get(path), path).toBe(content);
    }
    const corruptDir = join(store, 'local', 'corrupt');
    expect((await readdir(join(corruptDir, 'objects'))).length).toBe(1);
    expect((await readdir(join(corruptDir, 'refs'))).length).toBe(2);
    expect(await m.loadSSOT('spec')).toEqual(aeir);
    expect(await m.loadSSOT('other')).toEqual({ n: 2 });
    expect(await m.loadSSOT('small')).toEqual({ n: 1 });
    expect((await m.getVersions('small'))[0]).toMatchObject({ version: 1, source: 'fsck-restored' });
    expect((await m.fsck()).ok).toBe(true);
    await m.shutdown();
  });

  it('removes refs of commits whose writer died before publishing them', async () => {
    const { m, store } = await populatedStore();
    const commits = (await readdir(join(store, 'commits'))).sort();
    await unlink(join(store, 'commits', commits[3]!));
    // What a writer killed before its commit point leaves (pid 999999999 does not run).
    const id = commits[3]!.slice(0, -'.json'.length);
    await writeFile(join(store, 'local', 'staging', `${id}.999999999.publish`), '');
    const result = await m.fsck({ repair: true });
    expect(result.problems).toMatchObject([{ code: 'unpublished-ref', repaired: 'removed' }]);
    expect((await m.fsck()).problems).toEqual([]);
    await expect(stat(join(store, 'objects'))).resolves.toBeTruthy();
    await m.shutdown();
  });
});
