import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { listAllKeys } from '../../src/manager/key-catalog.js';
import { toVersionInfo } from '../../src/manager/versions.js';
import { tempProject } from '../helpers.js';
import { commitAll, git, gitInit } from '../git/git-helpers.js';

describe('listKeys', () => {
  it('lists every key with a visible version, in name order, with its newest version and count', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    expect(await m.listKeys()).toEqual([]);
    await m.saveSSOT('b.spec', { n: 1 }, { phase: 'phase-1' });
    await m.saveSSOT('b.spec', { n: 2 }, { phase: 'phase-2', source: 'refiner' });
    const last = await m.saveSSOT('a.spec', { n: 3 });
    const tx = await m.beginTransaction();
    await m.saveSSOT('c.staged', { n: 4 }, { transactionId: tx });
    const keys = await m.listKeys();
    // The staged key is not committed, so not listed.
    expect(keys.map((k) => [k.logicalKey, k.versionCount, k.latest.version])).toEqual([['a.spec', 1, 1], ['b.spec', 2, 2]]);
    expect(keys[0]!.latest.key).toBe(last);
    expect(keys[1]!.latest).toMatchObject({ phase: 'phase-2', source: 'refiner' });
    await m.rollbackTransaction(tx);
    await m.shutdown();
  });
});

/** The listing as the key catalog gives it, reading every ref: what the index must agree with. */
async function catalogued(m: EnhancedStateManager) {
  const ctx = (m as unknown as { ctx: Parameters<typeof listAllKeys>[0] }).ctx;
  return (await listAllKeys(ctx)).map(({ logicalKey, versions }) => {
    const newest = versions.at(-1)!;
    return { logicalKey, versionCount: versions.length, latest: toVersionInfo(newest.record, newest.version) };
  });
}

describe('listKeys from the statistics index', () => {
  it('agrees with a read of every ref after saves, transactions, maxVersions cleanup, GC and a deleted index', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, maxVersions: 3, recordGitProvenance: false });
    for (let i = 0; i < 20; i++) await m.saveSSOT(`key${i % 6}`, { i }, { phase: `phase-${(i % 3) + 1}`, tags: { n: String(i) } });
    expect(await m.listKeys()).toEqual(await catalogued(m));
    await m.withTransaction(async (tx) => {
      for (let i = 0; i < 8; i++) await tx.saveSSOT(`key${i % 4}`, { tx: i });
    });
    expect(await m.listKeys()).toEqual(await catalogued(m));
    await m.runGarbageCollection();
    await rm(join(m.storeDirectory, 'local', 'stats'), { recursive: true, force: true });
    const keys = await m.listKeys();
    expect(keys).toEqual(await catalogued(m));
    expect(keys.map((k) => [k.logicalKey, k.versionCount])).toEqual([0, 1, 2, 3, 4, 5].map((k) => [`key${k}`, 3]));
    await m.shutdown();
  });

  it('gives the numbers readers derive after a git merge of branches that saved one key', async () => {
    const root = await tempProject();
    await gitInit(root);
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    await m.saveSSOT('spec', { base: 1 });
    await commitAll(root, 'base');
    await git(root, 'checkout', '-qb', 'side');
    await m.saveSSOT('spec', { side: 1 });
    await m.saveSSOT('spec', { side: 2 });
    await commitAll(root, 'side');
    await git(root, 'checkout', '-q', 'main');
    await m.listKeys();
    await m.saveSSOT('spec', { main: 1 });
    await commitAll(root, 'main');
    await git(root, 'merge', '-q', '--no-edit', 'side');
    const keys = await m.listKeys();
    expect(keys).toEqual(await catalogued(m));
    expect(keys[0]).toMatchObject({ versionCount: 4 });
    await m.shutdown();
  });

  it('lists a key whose newest ref was damaged as readers see it', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
    await m.saveSSOT('a', { n: 1 });
    await m.saveSSOT('b', { n: 1 });
    await m.listKeys();
    const dir = join(m.storeDirectory, 'refs', 'keys', 'b');
    const ref = join(dir, (await readdir(dir))[0]!);
    const text = await readFile(ref, 'utf8');
    const at = text.indexOf('"checksum":"') + '"checksum":"'.length;
    await writeFile(ref, text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1));
    await expect(m.listKeys()).rejects.toMatchObject({ code: 'INTEGRITY' });
    await m.shutdown();
  });
});
