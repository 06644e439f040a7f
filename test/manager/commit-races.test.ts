import { readdir, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { CommitNotDurableError, IntegrityError, TransactionNotFoundError } from '../../src/errors.js';
import { FaultyFs } from '../support/faulty-fs.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { tempProject } from '../helpers.js';

async function objectFiles(root: string): Promise<string[]> {
  const objects = join(root, '.ae', 'objects');
  const files: string[] = [];
  for (const fanout of await readdir(objects)) for (const name of await readdir(join(objects, fanout))) files.push(join(objects, fanout, name));
  return files;
}

describe('commits racing saves and garbage collection', () => {
  it('a save still staging when its transaction commits is refused, never acknowledged and lost', async () => {
    const root = await tempProject();
    // Object stats take a while, so the second save is still staging while the commit runs.
    let slowObjects = false;
    const fs: StoreFs = {
      ...nodeFs,
      stat: (async (path: string, ...rest: unknown[]) => {
        if (slowObjects && path.includes(`${sep}objects${sep}`)) await new Promise((r) => setTimeout(r, 50));
        return (nodeFs.stat as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
      }) as StoreFs['stat'],
    };
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false }, { fs });
    await m.saveSSOT('b', { n: 0 });
    const txId = await m.beginTransaction();
    await m.saveSSOT('a', { n: 1 });
    slowObjects = true;
    const late = m.saveSSOT('b', { n: 2 }, { transactionId: txId }).then((key) => ({ key }), (error: unknown) => ({ error }));
    const keys = await m.commitTransaction(txId);
    const settled = await late;
    slowObjects = false;
    const visible = await m.loadSSOT('b');
    // Either the save made it into the commit, or it was refused: an
    // acknowledged full key must never name a version that does not exist.
    if ('key' in settled) {
      expect(keys).toContain(settled.key);
      expect(visible).toEqual({ n: 2 });
    } else {
      expect(settled.error).toBeInstanceOf(TransactionNotFoundError);
      expect(visible).toEqual({ n: 0 });
    }
    await m.shutdown();
  });

  it('a commit whose staged object vanished (garbage collected) fails instead of publishing a dangling version', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    await m.saveSSOT('a', { same: 'content' });
    const [object] = await objectFiles(root);
    const txId = await m.beginTransaction();
    await m.saveSSOT('b', { same: 'content' }); // reuses the object this process already made durable
    await unlink(object!); // what a GC of another process may do between staging and the commit
    await expect(m.commitTransaction(txId)).rejects.toBeInstanceOf(IntegrityError);
    expect(await m.loadSSOT('b')).toBeNull();
    await m.shutdown();
  });

  it('a transaction whose commit is published but not durable is not reported as rolled back', async () => {
    for (let at = 1; at < 50; at++) {
      const root = await tempProject();
      const faulty = new FaultyFs();
      const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false }, { fs: faulty.fs });
      const rolledBack: unknown[] = [];
      m.on('transactionRolledBack', (e) => rolledBack.push(e));
      const txId = await m.beginTransaction();
      await m.saveSSOT('a', { n: 1 });
      faulty.reset({ kind: 'fsync', at, code: 'EIO' });
      const failure = await m.commitTransaction(txId).then(() => null, (error: unknown) => error);
      faulty.reset(null);
      if (failure instanceof CommitNotDurableError) {
        expect(await m.loadSSOT('a')).toEqual({ n: 1 });
        expect(rolledBack).toEqual([]);
        await expect(m.rollbackTransaction(txId)).rejects.toMatchObject({ data: { state: 'committed' } });
        await m.shutdown();
        return;
      }
      await m.shutdown();
    }
    throw new Error('no fsync fault produced a CommitNotDurableError');
  });
});
