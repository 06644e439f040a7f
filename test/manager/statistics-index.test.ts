import { execFileSync } from 'node:child_process';
import { appendFile, lstat, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { RECENT_FOLD_AT } from '../../src/manager/statistics-index-update.js';
import { scanStatistics } from '../../src/manager/statistics.js';
import { serialize } from '../../src/model/codec.js';
import type { StateStatistics } from '../../src/model/types.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { objectPath, sha256Hex } from '../../src/store/objects.js';
import { bytesUnder, runCli, tempProject } from '../helpers.js';
import { commitAll, git, gitInit } from '../git/git-helpers.js';

type Internals = { ctx: Parameters<typeof scanStatistics>[0] };

/** Every directory of the store, last changed a minute ago (each a little apart), as after a pause: past the index's racy window. */
async function ageDirectories(dir: string, seconds = 60): Promise<void> {
  const past = new Date(Date.now() - seconds * 1000);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await ageDirectories(join(dir, entry.name), seconds + 1);
  }
  await utimes(dir, past, past);
}

/** The statistics a full scan of every ref and object gives now, the index's own files and the ref checks left out of diskBytes. */
async function scanned(m: EnhancedStateManager): Promise<StateStatistics> {
  const stats = scanStatistics((m as unknown as Internals).ctx, 0);
  return { ...stats, diskBytes: stats.diskBytes - (await bytesUnder(join(m.storeDirectory, 'local', 'stats'))) - (await bytesUnder(join(m.storeDirectory, 'local', 'checked'))) };
}

async function indexed(m: EnhancedStateManager): Promise<StateStatistics> {
  const stats = m.getStatistics();
  await (m as unknown as { statisticsIndex: { flush(): Promise<void> } }).statisticsIndex.flush();
  return stats;
}

/** A StoreFs that counts synchronous reads of ref files. */
function countingFs(): { fs: StoreFs; refReads: () => number } {
  let reads = 0;
  const fs: StoreFs = {
    ...nodeFs,
    readFileSync: (path: string) => {
      if (path.includes(`${join('refs', 'keys')}`)) reads++;
      return nodeFs.readFileSync(path);
    },
  };
  return { fs, refReads: () => reads };
}

async function fill(m: EnhancedStateManager): Promise<void> {
  for (let k = 0; k < 5; k++) {
    for (let v = 0; v < 4; v++) await m.saveSSOT(`key${k}`, { k, v, body: 'x'.repeat(k * 700) });
  }
  await m.saveSSOT('copy', { k: 0, v: 0, body: '' }); // the same content as key0's first version
}

describe('statistics index', () => {
  it('gives the figures of a full scan, and reads no ref again while nothing changed', async () => {
    const { fs, refReads } = countingFs();
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false, compressionThreshold: 1024 }, { fs });
    await fill(m);
    const first = await indexed(m);
    expect(first).toEqual(await scanned(m));
    expect(first).toMatchObject({ totalEntries: 21, logicalKeys: 6 });
    expect(first.dedupSavedBytes).toBeGreaterThan(0);
    await ageDirectories(m.storeDirectory);
    await indexed(m);
    // The full scan to compare with reads every ref; count only the index's reads.
    let expected = await scanned(m);
    const before = refReads();
    expect(await indexed(m)).toEqual(expected);
    expect(refReads()).toBe(before);

    // One more save: only its new ref is read.
    await m.saveSSOT('key3', { k: 3, v: 9 });
    const read = refReads();
    const stats = await indexed(m);
    expect(refReads() - read).toBe(1);
    expected = await scanned(m);
    expect(stats).toEqual(expected);
    await m.shutdown();
  });

  it('follows garbage collection, maxVersions cleanup and removed keys', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false, maxVersions: 3 }, {});
    await fill(m);
    await indexed(m);
    await ageDirectories(m.storeDirectory);
    await indexed(m);
    await m.saveSSOT('key1', { k: 1, v: 'new' });
    await m.runGarbageCollection();
    expect(await indexed(m)).toEqual(await scanned(m));
    await ageDirectories(m.storeDirectory);
    const keyDirs = join(m.storeDirectory, 'refs', 'keys');
    await rm(join(keyDirs, (await readdir(keyDirs))[0]!), { recursive: true });
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.shutdown();
  });

  it('is right after a git checkout changes the store behind its back, even with old directory times', async () => {
    const root = await tempProject();
    await gitInit(root);
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    await fill(m);
    await commitAll(root, 'one');
    await m.saveSSOT('key2', { more: 1 });
    await m.saveSSOT('later', { more: 2 });
    await m.runGarbageCollection();
    await commitAll(root, 'two');
    await ageDirectories(m.storeDirectory);
    const atTwo = await indexed(m);
    expect(atTwo.totalEntries).toBe(23);
    await git(root, 'checkout', '-q', 'HEAD~1');
    await ageDirectories(m.storeDirectory, 120);
    const atOne = await indexed(m);
    expect(atOne).toEqual(await scanned(m));
    expect(atOne.totalEntries).toBe(21);
    await git(root, 'checkout', '-q', '-');
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.shutdown();
  });

  it('rebuilds an index whose files are damaged or do not match each other', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
    await fill(m);
    await indexed(m);
    await ageDirectories(m.storeDirectory);
    const expected = await indexed(m);
    const dir = join(m.storeDirectory, 'local', 'stats');
    // A sub-shard newer than the main file, as a write cut short between the two leaves it.
    const fanout = (await readdir(join(dir, 'shards')))[0]!;
    const sub = (await readdir(join(dir, 'shards', fanout)))[0]!;
    await writeFile(join(dir, 'shards', fanout, sub), JSON.stringify({ seq: 1e9, objects: {}, refs: {} }));
    await m.saveSSOT('key0', { k: 0, v: 'x' });
    await utimes(join(m.storeDirectory, 'objects', fanout), new Date(0), new Date(0));
    expect(await indexed(m)).toEqual(await scanned(m));
    await writeFile(join(dir, 'main.json'), '{"format": 1, "keys": [');
    expect(await indexed(m)).toEqual(await scanned(m));
    expect((await indexed(m)).totalEntries).toBe(expected.totalEntries + 1);
    await m.shutdown();
  });

  it('a write of the index that fails changes no figure and fails nothing', async () => {
    const fs: StoreFs = {
      ...nodeFs,
      writeFile: (async (path: string, ...rest: unknown[]) => {
        if (String(path).includes('stats')) throw Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' });
        return (nodeFs.writeFile as (...a: unknown[]) => Promise<void>)(path, ...rest);
      }) as StoreFs['writeFile'],
    };
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false }, { fs });
    await fill(m);
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.saveSSOT('key0', { after: true });
    expect(await indexed(m)).toEqual(await scanned(m));
    await expect(m.shutdown()).resolves.toBeUndefined();
  });
});

describe('statistics of a store that does not exist', () => {
  it('create nothing', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    expect(await indexed(m)).toMatchObject({ totalEntries: 0, logicalKeys: 0 });
    expect(await readdir(root)).toEqual([]);
    await m.shutdown();
  });
});

/** A StoreFs that records which key directories (`refs/keys/<dir>`, not their files) are `lstat`ed synchronously. */
function keyDirLstats(): { fs: StoreFs; seen: Set<string> } {
  const seen = new Set<string>();
  const fs: StoreFs = {
    ...nodeFs,
    lstatSync: (path: string) => {
      const parts = path.split(/[\\/]/);
      if (parts.at(-3) === 'refs' && parts.at(-2) === 'keys') seen.add(parts.at(-1)!);
      return nodeFs.lstatSync(path);
    },
  };
  return { fs, seen };
}

const changeLogOf = (m: EnhancedStateManager) => join(m.storeDirectory, 'local', 'stats', 'changes');

describe('statistics index, after each kind of change', () => {
  it('after a save reads its own key directory only, not every key directory', async () => {
    const { fs, seen } = keyDirLstats();
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false }, { fs });
    for (let k = 0; k < 30; k++) await m.saveSSOT(`key${k}`, { k });
    await indexed(m);
    await m.saveSSOT('key7', { k: 'again' });
    await m.saveSSOT('new', { k: 'new' });
    seen.clear();
    const stats = await indexed(m);
    expect([...seen].sort()).toEqual(['key7', 'new']);
    expect(stats).toEqual(await scanned(m));
    await m.shutdown();
  });

  it('after saves and transactions measures the commits they published, not every commit file, until a session does not name its commits', async () => {
    let commitListings = 0;
    const commitStats = new Set<string>();
    const fs: StoreFs = {
      ...nodeFs,
      readdirSync: (path: string) => {
        if (path.endsWith(`${join('.ae', 'commits')}`)) commitListings++;
        return nodeFs.readdirSync(path);
      },
      lstatSync: (path: string) => {
        if (path.includes(`${join('.ae', 'commits')}/`)) commitStats.add(path.split(/[\\/]/).at(-1)!);
        return nodeFs.lstatSync(path);
      },
    };
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false }, { fs });
    for (let k = 0; k < 30; k++) await m.saveSSOT(`key${k}`, { k });
    await indexed(m);
    const before = new Set(await readdir(join(m.storeDirectory, 'commits')));
    await m.saveSSOT('key7', { k: 'again' });
    await m.withTransaction(async (tx) => {
      await tx.saveSSOT('key8', { k: 'in a transaction' });
      await tx.saveSSOT('new', { k: 'new' });
    });
    commitListings = 0;
    commitStats.clear();
    const stats = await indexed(m);
    const [listed, statted] = [commitListings, [...commitStats].sort()];
    expect(stats).toEqual(await scanned(m));
    const published = (await readdir(join(m.storeDirectory, 'commits'))).filter((name) => !before.has(name));
    expect(published).toHaveLength(2);
    expect(listed).toBe(0);
    expect(statted).toEqual(published.sort());
    // A session of a writer that does not name its commits (an older one): every commit file is listed again.
    const mtime = async (dir: string) => (await lstat(join(m.storeDirectory, dir))).mtimeMs;
    await m.saveSSOT('key9', { k: 'again' });
    const end = { c: await mtime('commits'), r: await mtime(join('refs', 'keys')), f: {} };
    await writeFile(changeLogOf(m), `${JSON.stringify({ b: 'old' })}\n${JSON.stringify({ t: 'old', k: [], o: [] })}\n${JSON.stringify({ e: 'old', ...end })}\n`, { flag: 'a' });
    commitListings = 0;
    const afterOld = await indexed(m);
    expect(commitListings).toBe(1);
    expect(afterOld).toEqual(await scanned(m));
    await m.shutdown();
  });

  it('counts a commit once when stats run while its save is between the commit point and the end of its session', async () => {
    let duringSave: (() => void) | null = null;
    const fs: StoreFs = {
      ...nodeFs,
      rename: async (from: string, to: string) => {
        await nodeFs.rename(from, to);
        if (to.includes(`${join('.ae', 'commits')}/`) && duringSave !== null) {
          const run = duringSave;
          duringSave = null;
          run();
        }
      },
    };
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false }, { fs });
    for (let k = 0; k < 3; k++) await m.saveSSOT(`key${k}`, { k });
    expect(await indexed(m)).toEqual(await scanned(m));
    duringSave = () => void m.getStatistics();
    await m.saveSSOT('key1', { k: 'again' });
    await (m as unknown as { statisticsIndex: { flush(): Promise<void> } }).statisticsIndex.flush();
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.shutdown();
  });

  it('counts a commit once when another process saves while stats list every directory', async () => {
    const root = await tempProject();
    const first = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    for (let k = 0; k < 3; k++) await first.saveSSOT(`key${k}`, { k });
    await indexed(first);
    await first.shutdown();
    let whileListing: (() => void) | null = null;
    const fs: StoreFs = {
      ...nodeFs,
      readdirSync: (path: string) => {
        if (path.endsWith(join('refs', 'keys')) && whileListing !== null) {
          const run = whileListing;
          whileListing = null;
          run();
        }
        return nodeFs.readdirSync(path);
      },
    };
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false }, { fs });
    // A session that declared nothing: the next read checks every directory, listing refs/keys/ before commits/.
    await appendFile(changeLogOf(m), `${JSON.stringify({ b: 'undeclared' })}\n${JSON.stringify({ e: 'undeclared', c: 0, r: 0, f: {} })}\n`);
    const index = JSON.stringify(new URL('../../dist/src/index.js', import.meta.url).pathname);
    const otherSave = `import(${index}).then(async ({ EnhancedStateManager }) => { const o = new EnhancedStateManager(${JSON.stringify(root)}, { gcInterval: 0, recordGitProvenance: false }); await o.saveSSOT('other', { o: 1 }); await o.shutdown(); })`;
    whileListing = () => execFileSync(process.execPath, ['-e', otherSave]);
    await indexed(m);
    expect(whileListing).toBeNull();
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.shutdown();
  });

  it('lists commits/ again after a change in the same tick as the last read, on a file system with 1 s times', async () => {
    const coarse = <T extends { mtimeMs: number } | undefined | null>(stats: T): T => {
      if (stats) stats.mtimeMs = Math.floor(stats.mtimeMs / 1000) * 1000;
      return stats;
    };
    const fs: StoreFs = {
      ...nodeFs,
      lstat: (async (path: string) => coarse(await nodeFs.lstat(path))) as StoreFs['lstat'],
      stat: (async (path: string) => coarse(await nodeFs.stat(path))) as StoreFs['stat'],
      lstatSync: (path: string) => coarse(nodeFs.lstatSync(path)),
    };
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false }, { fs });
    const other = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
    await other.saveSSOT('imported', { i: 1 });
    const backup = await other.exportState();
    for (let k = 0; k < 3; k++) await m.saveSSOT(`key${k}`, { k });
    await indexed(m);
    await new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)));
    await m.saveSSOT('key1', { k: 'again' });
    await indexed(m);
    // An import declares nothing; in the same second, commits/ keeps the mtime the last read saw.
    await m.importState(backup);
    expect(await indexed(m)).toEqual(await scanned(m));
    await Promise.all([m.shutdown(), other.shutdown()]);
  });

  it('keeps to the precise path across a rotation of the change log', async () => {
    const { fs, seen } = keyDirLstats();
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false }, { fs });
    for (let k = 0; k < 10; k++) await m.saveSSOT(`key${k}`, { k });
    await indexed(m);
    // Sessions that changed nothing, as many as fill the log past its rotation size.
    const mtime = async (dir: string) => (await lstat(join(m.storeDirectory, dir))).mtimeMs;
    const end = { c: await mtime('commits'), r: await mtime(join('refs', 'keys')), f: {} };
    const idle = (i: number) => `${JSON.stringify({ b: `i${i}` })}\n${JSON.stringify({ t: `i${i}`, k: [], o: [] })}\n${JSON.stringify({ e: `i${i}`, ...end })}\n`;
    await writeFile(changeLogOf(m), Array.from({ length: 3000 }, (_, i) => idle(i)).join(''), { flag: 'a' });
    await m.saveSSOT('key3', { k: 'after' });
    await expect(lstat(`${changeLogOf(m)}.old`)).resolves.toBeDefined();
    seen.clear();
    const stats = await indexed(m);
    expect([...seen]).toEqual(['key3']);
    expect(stats).toEqual(await scanned(m));
    await m.shutdown();
  });

  it('follows transactions, rollbacks and retention by maxVersions', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false, maxVersions: 3 });
    await fill(m);
    await indexed(m);
    await m.withTransaction(async (tx) => {
      for (let i = 0; i < 12; i++) await tx.saveSSOT(`key${i % 3}`, { i });
    });
    expect(await indexed(m)).toEqual(await scanned(m));
    const tx = await m.beginTransaction();
    await m.saveSSOT('key4', { rolledBack: true }, { transactionId: tx } as never);
    await m.rollbackTransaction(tx);
    expect(await indexed(m)).toEqual(await scanned(m));
    // Objects a rollback leaves behind stay counted when later commits write into their fanouts.
    const rolledBack = await m.beginTransaction();
    for (let i = 0; i < 40; i++) await m.saveSSOT(`left${i}`, { left: i }, { transactionId: rolledBack } as never);
    await m.rollbackTransaction(rolledBack);
    await m.withTransaction(async (later) => {
      for (let i = 0; i < 400; i++) await later.saveSSOT(`later${i % 5}`, { later: i });
    });
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.shutdown();
  });

  it('counts an object stored both packed and loose as a full read does, as its loose copy comes and goes', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
    const docs = Array.from({ length: 20 }, (_, i) => ({ i, body: 'x'.repeat(4000) }));
    await m.withTransaction(async (tx) => {
      for (const [i, doc] of docs.entries()) await tx.saveSSOT(`packed${i}`, doc);
    });
    expect(await indexed(m)).toEqual(await scanned(m));
    // A copy of one packed object as a loose file, stored raw where the pack holds it gzipped (another size),
    // as a git merge brings in a branch that saved the same data alone.
    const raw = serialize(docs[7]);
    const loose = objectPath(join(m.storeDirectory, 'objects'), sha256Hex(raw));
    await mkdir(join(loose, '..'), { recursive: true });
    await writeFile(loose, raw);
    const both = await indexed(m);
    expect(both).toEqual(await scanned(m));
    expect(both.objectCount).toBe(20);
    await rm(loose);
    expect(await indexed(m)).toEqual(await scanned(m));
    expect(await m.loadSSOT('packed7')).toEqual(docs[7]);
    await m.shutdown();
  });

  it('stays exact as versions expire by TTL and garbage collection removes them (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false, defaultTTL: 60 });
      await fill(m);
      await m.saveSSOT('short', { s: 1 }, { ttl: 1 });
      await m.saveSSOT('short', { s: 2 }, { ttl: 1 });
      const before = await indexed(m);
      vi.advanceTimersByTime(120_000);
      expect(await indexed(m)).toEqual(await scanned(m));
      const gc = await m.runGarbageCollection();
      expect(gc.expiredCount).toBeGreaterThan(0);
      const after = await indexed(m);
      expect(after).toEqual(await scanned(m));
      expect(after.totalEntries).toBeLessThan(before.totalEntries);
      await m.shutdown();
    } finally {
      vi.useRealTimers();
    }
  });

  it('follows fsck --repair and imports', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
    await fill(m);
    await indexed(m);
    const keyDirs = join(m.storeDirectory, 'refs', 'keys');
    const dir = join(keyDirs, (await readdir(keyDirs))[0]!);
    const ref = join(dir, (await readdir(dir))[0]!);
    await writeFile(ref, '{"format":1,');
    await m.fsck({ repair: true });
    expect(await indexed(m)).toEqual(await scanned(m));
    const other = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
    for (let i = 0; i < 5; i++) await other.saveSSOT(`imported${i % 2}`, { i });
    await m.importState(await other.exportState());
    const stats = await indexed(m);
    expect(stats).toEqual(await scanned(m));
    expect(stats.logicalKeys).toBe(8);
    await Promise.all([m.shutdown(), other.shutdown()]);
  });

  it('is right after a git merge of two branches that both saved', async () => {
    const root = await tempProject();
    await gitInit(root);
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    await fill(m);
    await commitAll(root, 'base');
    await git(root, 'checkout', '-qb', 'side');
    await m.saveSSOT('key1', { side: 1 });
    await m.saveSSOT('side-only', { side: 2 });
    await commitAll(root, 'side');
    await git(root, 'checkout', '-q', 'main');
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.saveSSOT('key2', { main: 1 });
    await commitAll(root, 'main');
    expect(await indexed(m)).toEqual(await scanned(m));
    await git(root, 'merge', '-q', '--no-edit', 'side');
    const merged = await indexed(m);
    expect(merged).toEqual(await scanned(m));
    expect(merged.totalEntries).toBe(24);
    await m.shutdown();
  });

  it("follows another process's saves", async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    await fill(m);
    await indexed(m);
    for (let i = 0; i < 2; i++) {
      const result = await runCli(['save', '-k', `cli${i}`, '-i', '-'], { cwd: root, input: JSON.stringify({ i }), env: { AE_STATE_RECORD_GIT_PROVENANCE: 'false' } });
      expect(result.code, result.stderr).toBe(0);
    }
    const stats = await indexed(m);
    expect(stats).toEqual(await scanned(m));
    expect(stats.logicalKeys).toBe(8);
    await m.shutdown();
  });

  it('checks every directory when a writer died before its end line, or the machine rebooted', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
    await fill(m);
    await indexed(m);
    await m.saveSSOT('key1', { dying: true });
    // The writer was killed after its change, before its end line.
    const log = await readFile(changeLogOf(m), 'utf8');
    await writeFile(changeLogOf(m), log.slice(0, log.lastIndexOf('{"e"')));
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.saveSSOT('key2', { after: true });
    expect(await indexed(m)).toEqual(await scanned(m));
    // A change nothing declared (a ref removed by hand) is seen after a reboot, when every directory is checked.
    const keyDirs = join(m.storeDirectory, 'refs', 'keys');
    const dir = join(keyDirs, (await readdir(keyDirs))[0]!);
    await rm(join(dir, (await readdir(dir))[0]!));
    const mainPath = join(m.storeDirectory, 'local', 'stats', 'main.json');
    const main = JSON.parse(await readFile(mainPath, 'utf8'));
    await writeFile(mainPath, JSON.stringify({ ...main, watch: { ...main.watch, boot: 'an earlier boot' } }));
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.shutdown();
  });

  it.each(['main.json', 'a bucket', 'a key sidecar', 'a sub-shard', 'the change log'])('is right when %s is deleted or damaged', async (what) => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
    await fill(m);
    await indexed(m);
    const dir = join(m.storeDirectory, 'local', 'stats');
    const first = async (sub: string) => join(dir, sub, (await readdir(join(dir, sub)))[0]!);
    const path = {
      'main.json': join(dir, 'main.json'),
      'a bucket': await first('keys'),
      'a key sidecar': await first('refs'),
      'a sub-shard': await first(relative(dir, await first('shards'))),
      'the change log': changeLogOf(m),
    }[what]!;
    await m.saveSSOT('key0', { k: 0, v: 'more' });
    await m.saveSSOT('key3', { k: 3, v: 'more' });
    await rm(path);
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.saveSSOT('key0', { k: 0, v: 'again' });
    await writeFile(path, what === 'the change log' ? '{"b":"x"}\n{"t":"x","k":[],"o":[]}\nnot json\n' : '{"seq": 0, "keys": [');
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.saveSSOT('key1', { k: 1, v: 'again' });
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.shutdown();
  });
});

describe('statistics index writes', () => {
  it('skip while another process writes, and take a lock left by a dead writer for a reason to rebuild', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
    await fill(m);
    await indexed(m);
    const dir = join(m.storeDirectory, 'local', 'stats');
    const lock = join(dir, 'writing');
    const seqOf = async () => JSON.parse(await readFile(join(dir, 'main.json'), 'utf8')).seq as number;
    const seq = await seqOf();
    await mkdir(lock);
    await m.saveSSOT('key1', { more: 1 });
    expect(await indexed(m)).toEqual(await scanned(m));
    expect(await seqOf()).toBe(seq);
    await utimes(lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    await m.saveSSOT('key2', { more: 2 });
    expect(await indexed(m)).toEqual(await scanned(m));
    await expect(lstat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(join(dir, 'main.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await indexed(m)).toEqual(await scanned(m));
    expect(await seqOf()).toBeGreaterThan(0);
    await m.shutdown();
  });
});

/** A StoreFs that counts synchronous reads of the index's sub-shard files. */
function subShardReads(): { fs: StoreFs; reads: () => number } {
  let reads = 0;
  const fs: StoreFs = {
    ...nodeFs,
    readFileSync: (path: string) => {
      if (path.includes(join('local', 'stats', 'shards'))) reads++;
      return nodeFs.readFileSync(path);
    },
  };
  return { fs, reads: () => reads };
}

/** Data whose checksum starts with `prefix` (4 hex): it falls in the sub-shard of that name. */
const checksumOf = (data: unknown) => sha256Hex(serialize(data));

function dataInSubShard(prefix: string): { near: string; i: number } {
  for (let i = 0; ; i++) {
    const data = { near: prefix, i };
    if (checksumOf(data).startsWith(prefix)) return data;
  }
}

async function mainFile(m: EnhancedStateManager): Promise<{ recent: { objects: Record<string, number>; refs: Record<string, unknown> } }> {
  return JSON.parse(await readFile(join(m.storeDirectory, 'local', 'stats', 'main.json'), 'utf8'));
}

async function someObjectChecksum(m: EnhancedStateManager): Promise<string> {
  const objects = join(m.storeDirectory, 'objects');
  const fanout = (await readdir(objects)).find((name) => /^[0-9a-f]{2}$/.test(name))!;
  return fanout + (await readdir(join(objects, fanout)))[0]!;
}

describe('statistics index, new objects', () => {
  const options = { gcInterval: 0, recordGitProvenance: false };

  it('counts a new object without reading its sub-shard, and a reused one by reading it', async () => {
    const { fs, reads } = subShardReads();
    const m = new EnhancedStateManager(await tempProject(), options, { fs });
    await fill(m);
    await indexed(m);
    // Past the racy window, so that the refreshes below read again only what the saves changed.
    await ageDirectories(m.storeDirectory);
    await indexed(m);
    // In a sub-shard that has a file, as nearly every one has in a large store.
    const near = dataInSubShard((await someObjectChecksum(m)).slice(0, 4));
    // A later tick of the file system's clock than the main file's birth (a file born in the same one is not claimed).
    await new Promise((resolve) => setTimeout(resolve, 30));
    await m.saveSSOT('near', near);
    let before = reads();
    let stats = await indexed(m);
    expect(reads()).toBe(before);
    expect(stats).toEqual(await scanned(m));
    expect(Object.keys((await mainFile(m)).recent.objects)).toEqual([checksumOf(near)]);
    // The same data again, under another key: its figures are in the main file already.
    await m.saveSSOT('near-again', near);
    before = reads();
    stats = await indexed(m);
    expect(reads()).toBe(before);
    expect(stats).toEqual(await scanned(m));
    // Data stored before the index was written: only its sub-shard knows how many versions name it.
    await m.saveSSOT('copy-of-key1', { k: 1, v: 0, body: 'x'.repeat(700) });
    before = reads();
    stats = await indexed(m);
    expect(reads()).toBeGreaterThan(before);
    expect(stats).toEqual(await scanned(m));
    await m.shutdown();
  });

  it('reads the sub-shard of a new object whose file is older than the index, as when stats ran between its write and its commit', async () => {
    const root = await tempProject();
    const reader = new EnhancedStateManager(root, options);
    let isArmed = false;
    const fs: StoreFs = {
      ...nodeFs,
      rename: async (from, to) => {
        await nodeFs.rename(from, to);
        // The object is in place, its commit not begun: another process reads the statistics now.
        if (isArmed && to.includes(`${join('.ae', 'objects')}/`)) {
          isArmed = false;
          await indexed(reader);
        }
      },
    };
    const m = new EnhancedStateManager(root, options, { fs });
    await fill(m);
    await indexed(reader);
    isArmed = true;
    await m.saveSSOT('raced', { raced: true });
    expect(isArmed).toBe(false);
    const stats = await indexed(reader);
    expect(stats).toEqual(await scanned(reader));
    expect((await mainFile(reader)).recent.objects).toEqual({});
    await Promise.all([m.shutdown(), reader.shutdown()]);
  });

  it('folds what the main file holds into the sub-shards once it holds many, and stays exact through removals', async () => {
    const m = new EnhancedStateManager(await tempProject(), { ...options, maxVersions: 3 });
    await fill(m);
    await indexed(m);
    for (let i = 0; i < RECENT_FOLD_AT - 1; i++) await m.saveSSOT(`many${i % 40}`, { many: i });
    expect(await indexed(m)).toEqual(await scanned(m));
    // maxVersions removed the refs of most of them: their counts went down in the main file.
    // (A file born in the same tick of the file system's clock as the main file is not claimed: one or two may be missing.)
    const held = Object.keys((await mainFile(m)).recent.objects).length;
    expect(held).toBeGreaterThan(RECENT_FOLD_AT - 10);
    expect(held).toBeLessThan(RECENT_FOLD_AT);
    // The refresh that brings the main file to RECENT_FOLD_AT objects folds them.
    let more = 0;
    do {
      await m.saveSSOT(`more${more}`, { more });
      expect(await indexed(m)).toEqual(await scanned(m));
    } while (Object.keys((await mainFile(m)).recent.objects).length > 0 && ++more < 20);
    expect((await mainFile(m)).recent).toEqual({ objects: {}, refs: {} });
    await m.runGarbageCollection();
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.saveSSOT('after-fold', { after: 'fold' });
    expect(await indexed(m)).toEqual(await scanned(m));
    await m.shutdown();
  });
});
