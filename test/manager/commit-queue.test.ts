import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { CommitNotDurableError, InvalidKeyError } from '../../src/errors.js';
import { batchMessage, MAX_BATCH_SAVES } from '../../src/manager/commit-queue.js';
import { serialize } from '../../src/model/codec.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { sha256Hex } from '../../src/store/objects.js';
import { FaultyFs } from '../support/faulty-fs.js';
import { tempProject } from '../helpers.js';

type Outcome = { key: string } | { error: unknown };
const outcome = (p: Promise<string>): Promise<Outcome> => p.then((key) => ({ key }), (error: unknown) => ({ error }));

/**
 * A file system on which every write, rename or link touching a path that
 * contains the fragment `poisoned()` names (none while it is null) fails
 * with EIO, as a bad sector under one file would: the save that needs that
 * file can never be published, any other can. Writes through a handle of
 * bytes that contain `poisonedBytes()` (an append to a pack) fail the same way.
 */
function failingFor(poisoned: () => string | null, poisonedBytes: () => Buffer | null = () => null): StoreFs {
  const hits = (...paths: unknown[]) => {
    const fragment = poisoned();
    return fragment !== null && paths.some((p) => typeof p === 'string' && p.includes(fragment));
  };
  const eio = () => Object.assign(new Error('EIO: injected i/o error'), { code: 'EIO' });
  return {
    ...nodeFs,
    open: (async (path: string, flags?: string | number, ...rest: unknown[]) => {
      const writing = typeof flags === 'string' ? /[wa+]/.test(flags) : typeof flags === 'number' && (flags & (constants.O_WRONLY | constants.O_RDWR)) !== 0;
      if (writing && hits(path)) throw eio();
      const handle = await (nodeFs.open as (...a: unknown[]) => Promise<FileHandle>)(path, flags, ...rest);
      if (!writing) return handle;
      // Appends to a pack fail too when they carry the poisoned bytes.
      const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<unknown>;
      handle.write = (async (data: unknown, ...more: unknown[]) => {
        const bytes = poisonedBytes();
        if (bytes !== null && Buffer.isBuffer(data) && data.includes(bytes)) throw eio();
        return write(data, ...more);
      }) as FileHandle['write'];
      return handle;
    }) as StoreFs['open'],
    writeFile: (async (path: unknown, ...rest: unknown[]) => {
      if (hits(path)) throw eio();
      return (nodeFs.writeFile as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
    }) as StoreFs['writeFile'],
    rename: async (from, to) => {
      if (hits(from, to)) throw eio();
      return nodeFs.rename(from, to);
    },
    link: async (from, to) => {
      if (hits(from, to)) throw eio();
      return nodeFs.link(from, to);
    },
  };
}

describe('batchMessage', () => {
  it('records a lone save as it always was, and a batch by its count and keys', () => {
    expect(batchMessage(['spec'])).toBe('save spec');
    expect(batchMessage(['a', 'b', 'a'])).toBe('saves 3 versions of 2 keys: a, b');
    expect(batchMessage(['a', 'a'])).toBe('saves 2 versions of 1 key: a');
    const many = Array.from({ length: 12 }, (_, i) => `k${i}`);
    expect(batchMessage(many)).toBe('saves 12 versions of 12 keys: k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, and 2 more');
  });
});

describe('group commit of concurrent saves', () => {
  it('100 concurrent saves over a few keys, interleaved with transactions, keep call order and get their own keys and versions', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 100_000, recordGitProvenance: false });
    await m.initialize();
    const events: Array<{ fullKey: string; version: number; logicalKey: string }> = [];
    m.on('ssotSaved', (e: { fullKey: string; version: number; logicalKey: string }) => events.push(e));
    const keys = ['alpha', 'beta', 'gamma'];
    const saves: Array<{ logicalKey: string; i: number; result: Promise<string> }> = [];
    const transactions: Array<Promise<void>> = [];
    const txKeys: string[][] = [];
    m.on('transactionCommitted', (e: { keys: string[] }) => txKeys.push(e.keys));
    for (let i = 0; i < 100; i++) {
      const logicalKey = keys[i % keys.length]!;
      saves.push({ logicalKey, i, result: m.saveSSOT(logicalKey, { i }) });
      if (i % 25 === 10) {
        transactions.push(
          m.withTransaction(async (tx) => {
            for (const key of keys) await tx.saveSSOT(key, { tx: i });
          }),
        );
      }
    }
    const fullKeys = await Promise.all(saves.map((s) => s.result));
    await Promise.all(transactions);
    expect(txKeys).toHaveLength(4);

    expect(new Set([...fullKeys, ...txKeys.flat()]).size).toBe(100 + 4 * keys.length);
    for (const key of keys) {
      const versions = (await m.getVersions(key)).reverse();
      // Gapless, strictly increasing numbers and timestamps.
      expect(versions.map((v) => v.version)).toEqual(versions.map((_, j) => j + 1));
      expect(versions.map((v) => v.timestamp)).toEqual([...versions.map((v) => v.timestamp)].sort());
      // The plain saves of the key appear in the order they were made.
      const plain = saves.filter((s) => s.logicalKey === key);
      const order = plain.map((s) => versions.findIndex((v) => v.key === fullKeys[saves.indexOf(s)]));
      expect(order.every((index) => index >= 0)).toBe(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    // Each caller's full key names its own data, and it had its own event with that key.
    for (const [n, save] of saves.entries()) {
      const entry = await m.loadEntry(save.logicalKey, { version: events.find((e) => e.fullKey === fullKeys[n])!.version });
      expect(entry?.data).toEqual({ i: save.i });
      expect(entry?.id).toBe(fullKeys[n]);
    }
    expect(events.filter((e) => fullKeys.includes(e.fullKey))).toHaveLength(100);
    // Each transaction is whole in one commit of its own; the plain saves shared commits.
    const log = await m.getLog();
    for (const committed of txKeys) expect(log.filter((c) => committed.every((k) => c.operations.some((o) => o.fullKey === k)))).toHaveLength(1);
    const plainCommits = log.filter((c) => c.transaction === null);
    expect(plainCommits.reduce((n, c) => n + c.operations.length, 0)).toBe(100);
    expect(plainCommits.length).toBeLessThan(100);
    await m.shutdown();
  });

  it('a batch of more saves than one commit takes is published in several commits, in order', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 100_000, recordGitProvenance: false });
    const count = MAX_BATCH_SAVES + 5;
    const fullKeys = await Promise.all(Array.from({ length: count }, (_, i) => m.saveSSOT('bulk', { i })));
    const versions = (await m.getVersions('bulk')).reverse();
    expect(versions.map((v) => v.key)).toEqual(fullKeys);
    expect(await m.loadSSOT('bulk')).toEqual({ i: count - 1 });
    expect((await m.getLog()).length).toBeGreaterThanOrEqual(2);
    await m.shutdown();
  });

  it('a save refused for bad input is refused at once and leaves the saves around it untouched', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    const results = await Promise.all([
      outcome(m.saveSSOT('good', { n: 1 })),
      outcome(m.saveSSOT('bad/key', { n: 2 })),
      outcome(m.saveSSOT('good', { n: 3 })),
    ]);
    expect('key' in results[0]! && 'key' in results[2]!).toBe(true);
    expect((results[1] as { error: unknown }).error).toBeInstanceOf(InvalidKeyError);
    expect((await m.getVersions('good')).map((v) => v.version)).toEqual([2, 1]);
    await m.shutdown();
  });

  it('a save whose ref cannot be written at publish time fails alone; every other save of its batch is published once', async () => {
    const root = await tempProject();
    let poisoned: string | null = null;
    const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 100_000, recordGitProvenance: false }, { fs: failingFor(() => poisoned) });
    await m.saveSSOT('poisoned', { n: 0 });
    poisoned = `${sep}poisoned${sep}`;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => outcome(m.saveSSOT(i % 10 === 7 ? 'poisoned' : `key${i % 4}`, { i }))),
    );
    poisoned = null;
    for (const [i, result] of results.entries()) {
      if (i % 10 === 7) expect((result as { error: { code?: string } }).error.code).toBe('EIO');
      else expect('key' in result, `save ${i}`).toBe(true);
    }
    for (let k = 0; k < 4; k++) {
      const versions = (await m.getVersions(`key${k}`)).reverse();
      expect(versions.map((v) => v.key)).toEqual(results.filter((_, i) => i % 4 === k && i % 10 !== 7).map((r) => (r as { key: string }).key));
      expect(versions.map((v) => v.version)).toEqual(versions.map((_, j) => j + 1));
    }
    // The others were still grouped: fewer commits than saves.
    expect((await m.getLog()).length - 1).toBeLessThan(36);
    // Nothing of the failed saves is visible, and the key saves again as its next version.
    expect(await m.loadSSOT('poisoned')).toEqual({ n: 0 });
    await m.saveSSOT('poisoned', { n: 1 });
    expect((await m.getVersions('poisoned')).map((v) => v.version)).toEqual([2, 1]);
    expect((await m.fsck()).ok).toBe(true);
    await m.shutdown();
  });

  it('a save whose object cannot be written fails alone; the others of its batch are published', async () => {
    const root = await tempProject();
    const doomed = { doomed: true };
    const checksum = sha256Hex(serialize(doomed));
    let poisoned: string | null = checksum.slice(2);
    // Its loose file cannot be written, nor a pack holding its bytes: the
    // batch's pack fails, its halves are published again, and the save alone
    // (a loose object) fails.
    const bytes = serialize(doomed);
    const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 100_000, recordGitProvenance: false }, {
      fs: failingFor(() => poisoned, () => (poisoned === null ? null : bytes)),
    });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(m.saveSSOT('spec', i === 5 ? doomed : { i }))));
    poisoned = null;
    expect((results[5] as { error: { code?: string } }).error.code).toBe('EIO');
    const published = results.filter((_, i) => i !== 5).map((r) => (r as { key: string }).key);
    expect((await m.getVersions('spec')).reverse().map((v) => v.key)).toEqual(published);
    expect(await m.loadSSOT('spec')).toEqual({ i: 19 });
    expect((await m.getLog()).length).toBeLessThan(19);
    await m.shutdown();
  });

  it('an fsync fault at any point of a batch commit either spares every save or, past the commit point, is reported to each; none is published twice', async () => {
    const seen = { spared: 0, split: 0, notDurable: 0 };
    for (let at = 1; at < 100; at++) {
      const root = await tempProject();
      const faulty = new FaultyFs();
      const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 100_000, recordGitProvenance: false }, { fs: faulty.fs });
      await m.initialize();
      faulty.reset({ kind: 'fsync', at, code: 'EIO' });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => outcome(m.saveSSOT(`key${i % 2}`, { i }))));
      const injected = faulty.injected;
      faulty.reset(null);
      const failures = results.filter((r): r is { error: unknown } => 'error' in r);
      // Either every save resolved (a fault before the commit point: the batch was published again in parts), or
      // the one commit is visible but not durable and every save of it says so.
      if (failures.length === 0) {
        seen.spared += injected;
        if ((await m.getLog()).length > 1) seen.split++;
      } else {
        expect(failures).toHaveLength(8);
        for (const f of failures) expect(f.error).toBeInstanceOf(CommitNotDurableError);
        seen.notDurable++;
      }
      for (const k of [0, 1]) {
        const versions = (await m.getVersions(`key${k}`)).reverse();
        expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
        const data = await Promise.all(versions.map((v) => m.loadSSOT(`key${k}`, v.version)));
        expect(data).toEqual([k, k + 2, k + 4, k + 6].map((i) => ({ i })));
      }
      await m.shutdown();
      if (injected === 0) break; // past the last fsync of the commit
    }
    expect(seen.spared).toBeGreaterThan(0);
    expect(seen.split).toBeGreaterThan(0);
    expect(seen.notDurable).toBeGreaterThan(0);
  });

  it('maxVersions applies to a batch as to single saves, and each removal is announced', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 3, recordGitProvenance: false });
    const removed: number[] = [];
    m.on('versionsCleanedUp', (e: { deletedVersions: number[] }) => removed.push(...e.deletedVersions));
    await Promise.all(Array.from({ length: 10 }, (_, i) => m.saveSSOT('kept', { i })));
    expect((await m.getVersions('kept')).map((v) => v.version)).toEqual([10, 9, 8]);
    expect(removed.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await m.loadSSOT('kept')).toEqual({ i: 9 });
    await m.shutdown();
  });

  it('shutdown waits for the saves already queued', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance: false });
    await m.initialize();
    const pending = Array.from({ length: 5 }, (_, i) => m.saveSSOT('late', { i }));
    await m.shutdown();
    // Published by the time shutdown resolves, before anyone awaited the saves.
    const reopened = new EnhancedStateManager(root, { gcInterval: 0 });
    const versions = (await reopened.getVersions('late')).reverse();
    expect(versions.map((v) => v.key)).toEqual(await Promise.all(pending));
    await reopened.shutdown();
  });
});
