import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { tempProject } from '../helpers.js';
import { commitAll, git, gitInit } from './git-helpers.js';

/** Saves with a fresh manager, as separate CLI runs between git operations would. */
async function save(root: string, key: string, data: unknown): Promise<string> {
  const manager = new EnhancedStateManager(root);
  try {
    return await manager.saveSSOT(key, data);
  } finally {
    await manager.shutdown();
  }
}

describe('.ae/ committed to git', () => {
  it('merges two branches that both saved versions without conflicts, and numbers them uniquely in time order', async () => {
    const root = await tempProject();
    await gitInit(root);
    const base = await save(root, 'spec', { step: 'base' });
    await commitAll(root, 'base');

    await git(root, 'checkout', '-q', '-b', 'feature');
    const feature1 = await save(root, 'spec', { step: 'feature 1' });
    const feature2 = await save(root, 'spec', { step: 'feature 2' });
    await save(root, 'feature.only', { side: 'feature' });
    await commitAll(root, 'feature work');

    await git(root, 'checkout', '-q', 'main');
    const main1 = await save(root, 'spec', { step: 'main 1' });
    await commitAll(root, 'main work');

    await git(root, 'merge', '-q', '--no-edit', 'feature');
    expect((await git(root, 'diff', '--name-only', '--diff-filter=U')).trim()).toBe('');
    expect((await git(root, 'status', '--porcelain')).trim()).toBe('');

    const manager = new EnhancedStateManager(root);
    const report = await manager.fsck();
    expect(report.ok).toBe(true);
    const versions = await manager.getVersions('spec');
    // Newest first; both sides' versions, in timestamp order, numbers unique and increasing.
    expect(versions.map((v) => v.key)).toEqual([main1, feature2, feature1, base]);
    expect(versions.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    const steps = new Map([[base, 'base'], [feature1, 'feature 1'], [feature2, 'feature 2'], [main1, 'main 1']]);
    for (const v of versions) expect(await manager.loadSSOT('spec', v.version)).toEqual({ step: steps.get(v.key) });
    expect(await manager.loadSSOT('feature.only')).toEqual({ side: 'feature' });
    expect(await manager.getLog()).toHaveLength(5);

    // The next save continues after the newest number as read.
    await manager.saveSSOT('spec', { step: 'after merge' });
    expect((await manager.getVersions('spec'))[0]!.version).toBe(5);
    expect((await manager.fsck()).ok).toBe(true);
    await manager.shutdown();
  });

  it('keeps the numbers an import reserved when the merge puts the other branch\'s versions after it', async () => {
    const root = await tempProject();
    await gitInit(root);
    await save(root, 'spec', { step: 'base' });
    await commitAll(root, 'base');

    await git(root, 'checkout', '-q', '-b', 'restore');
    const importer = new EnhancedStateManager(root);
    const timestamp = new Date().toISOString();
    const entry = { id: 'u2', logicalKey: 'spec', timestamp, version: 2, checksum: '', compressed: false, data: { step: 'restored' }, metadata: { created: timestamp } };
    // The original database had handed out numbers up to 10 for this key.
    await importer.importState({ metadata: { version: '1.0.0', timestamp, options: {} }, entries: [entry], indices: { versionIndex: { spec: 10 } } });
    await importer.shutdown();
    await commitAll(root, 'restore');

    await git(root, 'checkout', '-q', 'main');
    await new Promise((r) => setTimeout(r, 5));
    await save(root, 'spec', { step: 'main 1' });
    await commitAll(root, 'main work');
    await git(root, 'merge', '-q', '--no-edit', 'restore');

    const manager = new EnhancedStateManager(root);
    expect((await manager.getVersions('spec')).map((v) => v.version)).toEqual([11, 2, 1]);
    expect(await manager.loadSSOT('spec', 11)).toEqual({ step: 'main 1' });
    await manager.saveSSOT('spec', { step: 'after merge' });
    expect((await manager.getVersions('spec'))[0]!.version).toBe(12);
    expect((await manager.fsck()).ok).toBe(true);
    await manager.shutdown();
  });

  it('keeps local files out of git and nothing else', async () => {
    const root = await tempProject();
    await gitInit(root);
    const manager = new EnhancedStateManager(root);
    const txId = await manager.beginTransaction();
    await manager.saveSSOT('spec', { a: 1 }, { transactionId: txId });
    await manager.saveSSOT('other', { b: 2 });
    const tracked = (await git(root, 'status', '--porcelain', '--untracked-files=all')).trim().split('\n').map((l) => l.slice(3));
    expect(tracked.filter((p) => p.startsWith('.ae/local'))).toEqual([]);
    const ignored = (await git(root, 'status', '--porcelain', '--ignored', '--untracked-files=all')).split('\n').filter((l) => l.startsWith('!!'));
    expect(ignored.length).toBeGreaterThan(0);
    expect(ignored.every((l) => l.slice(3).startsWith('.ae/local/'))).toBe(true);
    await manager.rollbackTransaction(txId);
    await manager.shutdown();
  });
});

describe('.ae/ with packs committed to git', () => {
  it('merges two branches that each committed packed transactions without conflicts; everything loads, at each revision too, and fsck is clean', async () => {
    const root = await tempProject();
    await gitInit(root);
    await save(root, 'spec', { step: 'base' });
    await commitAll(root, 'base');
    const transaction = async (side: string) => {
      const manager = new EnhancedStateManager(root);
      try {
        await manager.withTransaction(async (tx) => {
          for (let i = 0; i < 10; i++) await tx.saveSSOT(`${side}${i % 3}`, { side, i });
          await tx.saveSSOT('spec', { step: side });
        });
      } finally {
        await manager.shutdown();
      }
    };

    await git(root, 'checkout', '-q', '-b', 'feature');
    await transaction('feature');
    const featureHead = await commitAll(root, 'feature work');
    await git(root, 'checkout', '-q', 'main');
    await transaction('main');
    await commitAll(root, 'main work');

    await git(root, 'merge', '-q', '--no-edit', 'feature');
    expect((await git(root, 'diff', '--name-only', '--diff-filter=U')).trim()).toBe('');
    expect((await git(root, 'status', '--porcelain')).trim()).toBe('');
    const packs = (await git(root, 'ls-files', '.ae/objects/pack')).trim().split('\n');
    expect(packs.filter((p) => p.endsWith('.pack'))).toHaveLength(2);
    expect(packs.filter((p) => p.endsWith('.idx'))).toHaveLength(2);

    const manager = new EnhancedStateManager(root);
    expect((await manager.fsck()).ok).toBe(true);
    for (const side of ['feature', 'main']) {
      for (let k = 0; k < 3; k++) {
        const versions = await manager.getVersions(`${side}${k}`);
        for (const v of versions) expect(await manager.loadSSOT(`${side}${k}`, v.version)).toMatchObject({ side });
        expect(versions.length).toBeGreaterThan(0);
      }
    }
    expect((await manager.getVersions('spec')).map((v) => v.version)).toEqual([3, 2, 1]);
    // Read straight from git history: the feature side's packed versions at its own commit.
    expect(await manager.loadSSOT('feature0', { at: featureHead })).toEqual({ side: 'feature', i: 9 });
    await manager.saveSSOT('spec', { step: 'after merge' });
    expect((await manager.fsck()).ok).toBe(true);
    await manager.shutdown();
  });
});
