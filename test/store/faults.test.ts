/**
 * Disk faults (ENOSPC, EIO) at every write, fsync and rename of a save and of
 * a transaction commit: the caller gets the error, the store still opens, and
 * every version acknowledged before is intact; a failed commit is not visible.
 */
import { describe, expect, it } from 'vitest';
import { AeStateError, CommitNotDurableError, EnhancedStateManager } from '../../src/index.js';
import { FaultyFs, type FaultKind } from '../support/faulty-fs.js';
import { expectStoreSound } from '../support/store-checks.js';
import { readAeIr, tempProject } from '../helpers.js';

const KINDS: FaultKind[] = ['write', 'fsync', 'rename'];

async function expectIntact(root: string, expected: Record<string, unknown>) {
  const fresh = new EnhancedStateManager(root, { gcInterval: 0 });
  for (const [key, value] of Object.entries(expected)) expect(await fresh.loadSSOT(key)).toEqual(value);
  await fresh.shutdown();
  await expectStoreSound(root);
}

describe('disk faults', () => {
  for (const code of ['ENOSPC', 'EIO'] as const) {
    it(`a save that hits ${code} at any write, fsync or rename fails cleanly and loses nothing`, async () => {
      const aeir = await readAeIr();
      let injected = 0;
      for (const kind of KINDS) {
        for (let at = 1; ; at++) {
          const root = await tempProject();
          const faulty = new FaultyFs();
          const manager = new EnhancedStateManager(root, { gcInterval: 0 }, { fs: faulty.fs });
          await manager.saveSSOT('spec', { before: true });
          faulty.reset({ kind, at, code });
          const failure = await manager.saveSSOT('spec', aeir).then(
            () => null,
            (error: Error) => error,
          );
          const faultHit = faulty.injected > 0;
          faulty.reset(null);
          await manager.shutdown();
          if (failure === null) {
            // A fault only in the local head cache is absorbed; the save landed.
            await expectIntact(root, { spec: aeir });
            if (!faultHit) break;
            continue;
          }
          injected++;
          const errno = failure instanceof AeStateError ? failure.data.errno : (failure as NodeJS.ErrnoException).code;
          expect(errno).toBe(code);
          // Only a fault after the commit point leaves the save visible, and its error says so.
          const published = failure instanceof CommitNotDurableError;
          await expectIntact(root, { spec: published ? aeir : { before: true } });
          const again = new EnhancedStateManager(root, { gcInterval: 0 });
          await again.saveSSOT('spec', { after: true });
          const expected = published ? [3, 2, 1] : [2, 1];
          expect((await again.getVersions('spec')).map((v) => v.version)).toEqual(expected);
          await again.shutdown();
        }
      }
      expect(injected).toBeGreaterThanOrEqual(6);
    });
  }

  it('a transaction commit that hits a fault publishes none of its saves', async () => {
    let injected = 0;
    for (const kind of KINDS) {
      for (let at = 1; ; at++) {
        const root = await tempProject();
        const faulty = new FaultyFs();
        const manager = new EnhancedStateManager(root, { gcInterval: 0 }, { fs: faulty.fs });
        await manager.saveSSOT('a', 'old a');
        const tx = await manager.beginTransaction();
        await manager.saveSSOT('a', 'new a');
        await manager.saveSSOT('b', 'new b');
        faulty.reset({ kind, at, code: 'EIO' });
        const failure = await manager.commitTransaction(tx).then(
          () => null,
          (error: Error) => error,
        );
        const failed = failure !== null;
        const faultHit = faulty.injected > 0;
        faulty.reset(null);
        await manager.shutdown();
        if (!failed) {
          await expectIntact(root, { a: 'new a', b: 'new b' });
          if (!faultHit) break;
          continue;
        }
        injected++;
        if (failure instanceof CommitNotDurableError) await expectIntact(root, { a: 'new a', b: 'new b' });
        else await expectIntact(root, { a: 'old a', b: null });
      }
    }
    expect(injected).toBeGreaterThanOrEqual(4);
  });
});
