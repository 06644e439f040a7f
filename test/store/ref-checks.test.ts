import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager, IntegrityError } from '../../src/index.js';
import { RACY_MARGIN_MS } from '../../src/model/ref-checks.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { encodeVersionRecord, parseVersionRecord } from '../../src/store/refs.js';
import { tempProject } from '../helpers.js';

const OPTIONS = { gcInterval: 0, recordGitProvenance: false };

/** Node's file system, counting the reads (opens, whole-file reads) and listings of paths under `under` (e.g. `/commits/`). */
function countingReads(under: string): { fs: StoreFs; reads: () => number; listings: () => number } {
  let reads = 0;
  let listings = 0;
  const counted = (method: 'open' | 'readFile' | 'readdir') =>
    ((path: unknown, ...rest: unknown[]) => {
      if (String(path).includes(under)) method === 'readdir' ? listings++ : reads++;
      return (nodeFs[method] as (p: unknown, ...r: unknown[]) => unknown)(path, ...rest);
    }) as never;
  const fs: StoreFs = { ...nodeFs, open: counted('open'), readFile: counted('readFile'), readdir: counted('readdir') };
  return { fs, reads: () => reads, listings: () => listings };
}

/** Counting the reads of commit files (every read of one opens it). */
function countingCommitReads(): { fs: StoreFs; commitReads: () => number } {
  const { fs, reads } = countingReads(`${sep}commits${sep}`);
  return { fs, commitReads: reads };
}

/** Counting the reads of ref files and the listings of key directories. */
function countingRefReads(): { fs: StoreFs; refReads: () => number; keyListings: () => number } {
  const { fs, reads, listings } = countingReads(`${sep}refs${sep}keys${sep}`);
  return { fs, refReads: reads, keyListings: listings };
}

/**
 * Three transactions, each saving a version of `spec` and of `other`: `spec`'s
 * versions are listed by three commits. Then the commit files age past the
 * margin within which a file's stat does not vouch for its content.
 */
async function storeOfOldCommits() {
  const root = await tempProject();
  const m = new EnhancedStateManager(root, OPTIONS);
  for (let i = 1; i <= 3; i++) {
    await m.withTransaction(async (tx) => {
      await tx.saveSSOT('spec', { revision: i });
      await tx.saveSSOT('other', { revision: i });
    });
  }
  await m.shutdown();
  await new Promise((resolve) => setTimeout(resolve, RACY_MARGIN_MS + 200));
  const commits = join(root, '.ae', 'commits');
  return { root, commits, commitFiles: (await readdir(commits)).sort() };
}

async function inFreshManager<T>(root: string, work: (m: EnhancedStateManager) => Promise<T>, fs?: StoreFs): Promise<T> {
  const m = new EnhancedStateManager(root, OPTIONS, fs === undefined ? {} : { fs });
  try {
    return await work(m);
  } finally {
    await m.shutdown();
  }
}

const listing = async (m: EnhancedStateManager) => [await m.loadEntry('spec'), await m.getVersions('spec')] as const;

describe('ref checks', () => {
  it('let a new process trust refs it checked before, reading none of their commits, with the same versions and numbers', async () => {
    const { root } = await storeOfOldCommits();
    const first = countingCommitReads();
    const before = await inFreshManager(root, listing, first.fs);
    expect(first.commitReads()).toBe(3);
    const second = countingCommitReads();
    const after = await inFreshManager(root, listing, second.fs);
    expect(second.commitReads()).toBe(0);
    expect(after[1]).toEqual(before[1]);
    expect(after[0]).toMatchObject({ data: { revision: 3 }, version: 3, id: before[0]!.id });
  });

  it('read a commit again once its file was replaced, and refuse the ref when the new file disagrees', async () => {
    const { root, commits, commitFiles } = await storeOfOldCommits();
    await inFreshManager(root, listing);
    // The same bytes under a new inode (what a git checkout writes): read again, and still agreeing.
    const middle = join(commits, commitFiles[1]!);
    const bytes = await readFile(middle);
    await writeFile(`${middle}.new`, bytes);
    await rename(`${middle}.new`, middle);
    const reread = countingCommitReads();
    await inFreshManager(root, listing, reread.fs);
    expect(reread.commitReads()).toBe(1);
    // Another checksum for spec's version in that commit: the ref disagrees with it.
    const edited = bytes.toString('utf8').replace(/("logicalKey": "spec",\s+"version": 2,\s+"checksum": ")([0-9a-f])/, (_, head: string, c: string) => `${head}${c === '0' ? '1' : '0'}`);
    expect(edited).not.toBe(bytes.toString('utf8'));
    await writeFile(`${middle}.new`, edited);
    await rename(`${middle}.new`, middle);
    const error = await inFreshManager(root, (m) => m.loadSSOT('spec')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
  });

  it('are ignored when torn or of another key, and written again from the commits', async () => {
    const { root } = await storeOfOldCommits();
    await inFreshManager(root, listing);
    const dir = join(root, '.ae', 'local', 'checked');
    const [file] = await readdir(dir);
    const path = join(dir, file!);
    const good = await readFile(path, 'utf8');
    for (const damaged of [good.slice(0, good.length >> 1), good.replace('"dir":"spec"', '"dir":"other"')]) {
      await writeFile(path, damaged);
      const counted = countingCommitReads();
      expect((await inFreshManager(root, listing, counted.fs))[0]).toMatchObject({ data: { revision: 3 } });
      expect(counted.commitReads()).toBe(3);
      expect(await readFile(path, 'utf8')).toBe(good);
    }
  });

  it('vouch for no commit written or changed within the margin before it was checked', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, OPTIONS);
    await m.saveSSOT('spec', { revision: 1 });
    await m.shutdown();
    // Checked at once: the commit file is too new for its stat to vouch for it.
    await inFreshManager(root, listing);
    const counted = countingCommitReads();
    await inFreshManager(root, listing, counted.fs);
    expect(counted.commitReads()).toBe(1);
  });
});

const checksFileOf = async (root: string) => {
  const dir = join(root, '.ae', 'local', 'checked');
  const names = await readdir(dir);
  const contents = await Promise.all(names.map(async (name) => ({ path: join(dir, name), text: await readFile(join(dir, name), 'utf8') })));
  return contents.find(({ text }) => text.includes('"dir":"spec"'))!;
};

describe('ref copies', () => {
  it('let a new process read a key without opening any of its refs, with the same versions, numbers and data', async () => {
    const { root } = await storeOfOldCommits();
    const first = countingRefReads();
    const before = await inFreshManager(root, listing, first.fs);
    expect(first.refReads()).toBe(3);
    expect(JSON.parse((await checksFileOf(root)).text).copies.refs).toHaveProperty([(await readdir(join(root, '.ae', 'refs', 'keys', 'spec'))).sort()[0]!]);
    const second = countingRefReads();
    const after = await inFreshManager(root, listing, second.fs);
    // The directory is listed on each listing, as always; the refs come from their copies.
    expect(second.refReads()).toBe(0);
    expect(after[1]).toEqual(before[1]);
    expect(after[0]).toMatchObject({ data: { revision: 3 }, version: 3, id: before[0]!.id });
    const load = countingRefReads();
    expect(await inFreshManager(root, (m) => m.loadSSOT('spec'), load.fs)).toEqual({ revision: 3 });
    expect([load.refReads(), load.keyListings()]).toEqual([0, 1]);
  });

  it('are not used once the directory changed: a save, a removal, or a ref replaced as git replaces files', async () => {
    const { root } = await storeOfOldCommits();
    await inFreshManager(root, listing);
    const keyDir = join(root, '.ae', 'refs', 'keys', 'spec');
    // A save in another process: the new version is seen.
    await inFreshManager(root, (m) => m.saveSSOT('spec', { revision: 4 }));
    const afterSave = countingRefReads();
    expect(await inFreshManager(root, (m) => m.loadEntry('spec'), afterSave.fs)).toMatchObject({ data: { revision: 4 }, version: 4 });
    expect(afterSave.keyListings()).toBe(1);
    // The oldest version removed (as retention does): it is gone from the listing.
    const oldest = (await readdir(keyDir)).sort()[0]!;
    await rm(join(keyDir, oldest));
    const afterRemoval = await inFreshManager(root, (m) => m.getVersions('spec'));
    expect(afterRemoval.map((v) => v.version)).toEqual([4, 3, 2]);
    // A ref removed and written anew with other bytes (a git checkout of another revision of it): read from the file.
    const newest = (await readdir(keyDir)).sort().at(-1)!;
    const bytes = await readFile(join(keyDir, newest), 'utf8');
    await rm(join(keyDir, newest));
    await writeFile(join(keyDir, newest), bytes.replace('"version": 4', '"version": 40'));
    const error = await inFreshManager(root, (m) => m.loadSSOT('spec')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(String(error)).toMatch(/digest/);
  });

  it('are not used for a ref replaced under its own name by a valid one (renamed over it, as git and settling write): the file is read', async () => {
    const { root } = await storeOfOldCommits();
    await inFreshManager(root, listing);
    expect((await checksFileOf(root)).text).toContain('"copies"');
    const keyDir = join(root, '.ae', 'refs', 'keys', 'spec');
    const newest = join(keyDir, (await readdir(keyDir)).sort().at(-1)!);
    const record = parseVersionRecord(await readFile(newest), newest);
    await writeFile(`${newest}.new`, encodeVersionRecord({ ...record, version: 40 }));
    await rename(`${newest}.new`, newest);
    const counted = countingRefReads();
    expect((await inFreshManager(root, (m) => m.getVersions('spec'), counted.fs)).map((v) => v.version)).toEqual([40, 2, 1]);
    expect(counted.refReads()).toBe(3);
  });

  it('are checked as the ref files are: one edited in the checks file is not used, the file is read, and the copies are written again', async () => {
    const { root } = await storeOfOldCommits();
    const before = await inFreshManager(root, listing);
    const { path, text } = await checksFileOf(root);
    // Another checksum in the copy of version 2: its digest no longer matches.
    const edited = text.replace(/(\\"version\\": 2,[^}]*?\\"checksum\\": \\")([0-9a-f])/, (_, head: string, c: string) => `${head}${c === '0' ? '1' : '0'}`);
    expect(edited).not.toBe(text);
    await writeFile(path, edited);
    const summary = ([entry, versions]: Awaited<ReturnType<typeof listing>>) => [entry?.data, entry?.version, versions.map((v) => [v.version, v.id, v.checksum])];
    const counted = countingRefReads();
    expect(summary(await inFreshManager(root, listing, counted.fs))).toEqual(summary(before));
    expect(counted.refReads()).toBe(1);
    expect((await checksFileOf(root)).text).not.toContain('"copies"');
    const next = countingRefReads();
    expect(summary(await inFreshManager(root, listing, next.fs))).toEqual(summary(before));
    expect(next.refReads()).toBe(3);
    expect((await checksFileOf(root)).text).toBe(text);
  });

  it('are not recorded for a directory changed within the margin before it was listed', async () => {
    const root = await tempProject();
    await inFreshManager(root, (m) => m.saveSSOT('spec', { revision: 1 }));
    await inFreshManager(root, listing);
    const counted = countingRefReads();
    await inFreshManager(root, (m) => m.loadSSOT('spec'), counted.fs);
    expect([counted.refReads(), counted.keyListings()]).toEqual([1, 1]);
  });

  it('leave fsck reading every ref from disk: a ref edited in place, which keeps its directory as it was, is reported', async () => {
    const { root } = await storeOfOldCommits();
    await inFreshManager(root, listing);
    const keyDir = join(root, '.ae', 'refs', 'keys', 'spec');
    const newest = join(keyDir, (await readdir(keyDir)).sort().at(-1)!);
    await writeFile(newest, (await readFile(newest, 'utf8')).replace('"version": 3', '"version": 30'));
    const report = await inFreshManager(root, (m) => m.fsck());
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.path)).toEqual([expect.stringContaining(basename(newest))]);
  });

  it('are dropped by fsck --repair, so a valid ref copied over another in place is read from its file after it', async () => {
    const { root } = await storeOfOldCommits();
    await inFreshManager(root, listing);
    const keyDir = join(root, '.ae', 'refs', 'keys', 'spec');
    const newest = join(keyDir, (await readdir(keyDir)).sort().at(-1)!);
    const record = parseVersionRecord(await readFile(newest), newest);
    // Written in place (same inode, as `cp` over an existing file does): the directory keeps its identity.
    await writeFile(newest, encodeVersionRecord({ ...record, version: 40 }));
    const versions = (m: EnhancedStateManager) => m.getVersions('spec').then((all) => all.map((v) => v.version));
    expect(await inFreshManager(root, versions)).toEqual([3, 2, 1]);
    expect((await inFreshManager(root, (m) => m.fsck({ repair: true }))).ok).toBe(true);
    expect(await inFreshManager(root, versions)).toEqual([40, 2, 1]);
  });
});
