import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager, IntegrityError } from '../../src/index.js';
import { RACY_MARGIN_MS } from '../../src/model/ref-checks.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { tempProject } from '../helpers.js';

const OPTIONS = { gcInterval: 0, recordGitProvenance: false };

/** Node's file system, counting the opens of commit files (every read of one opens it). */
function countingCommitReads(): { fs: StoreFs; commitReads: () => number } {
  let reads = 0;
  const fs: StoreFs = {
    ...nodeFs,
    open: ((path: unknown, ...rest: unknown[]) => {
      if (String(path).includes(`${sep}commits${sep}`)) reads++;
      return (nodeFs.open as (p: unknown, ...r: unknown[]) => ReturnType<StoreFs['open']>)(path, ...rest);
    }) as StoreFs['open'],
  };
  return { fs, commitReads: () => reads };
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
