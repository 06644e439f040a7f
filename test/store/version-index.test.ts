/**
 * Listing a key again: the index keeps the last listing in which every ref
 * was published, and must still answer exactly what is on disk when refs
 * were added, removed or published since.
 */
import { describe, expect, it } from 'vitest';
import type { CommitOperation, VersionRecord } from '../../src/model/records.js';
import type { PendingCommits } from '../../src/store/staging.js';
import { cachedRecordsBound, MIN_CACHED_RECORDS, VersionIndex } from '../../src/store/version-index.js';

const KEY = 'spec';

/** A key's refs and the commits that list them, in memory. */
class FakeStore {
  readonly refs = new Map<string, VersionRecord>();
  readonly published = new Set<string>();
  readonly live = new Set<string>();

  add(name: string, version: number, commit: string): void {
    const fullKey = `${KEY}_${name}`;
    this.refs.set(`/refs/${name}.json`, { logicalKey: KEY, fullKey, version, commit, checksum: 'c'.repeat(64) } as unknown as VersionRecord);
  }

  /** A ref whose commit is published. */
  addPublished(name: string, version: number, commit: string): void {
    this.add(name, version, commit);
    this.published.add(commit);
  }

  /** Awaited by the read of `gate.path` while set: lets a test act while a listing is under way. */
  gate: { path: string; wait: Promise<void> } | null = null;

  index(maxCachedRecords?: number): VersionIndex {
    return new VersionIndex(
      {
        listPaths: async () => [...this.refs.keys()].sort(),
        readIfExists: async (path: string) => {
          if (this.gate?.path === path) await this.gate.wait;
          return this.refs.get(path) ?? null;
        },
      },
      {
        operationFor: async (commit: string, fullKey: string) => {
          if (!this.published.has(commit)) return null;
          const record = [...this.refs.values()].find((r) => r.fullKey === fullKey)!;
          return { fullKey, logicalKey: KEY, version: record.version, checksum: record.checksum } as CommitOperation;
        },
      },
      async (): Promise<PendingCommits> => ({ live: new Set(this.live), abandoned: new Set(), abandonedRecords: new Map() }),
      undefined,
      maxCachedRecords,
    );
  }
}

const listed = async (index: VersionIndex) => (await index.list(KEY)).versions.map((v) => [v.path, v.version]);

describe('version index', () => {
  it('lists a ref of a commit in progress once that commit is published', async () => {
    const store = new FakeStore();
    store.add('a', 1, 'c1');
    store.published.add('c1');
    store.add('b', 2, 'c2');
    store.live.add('c2');
    const index = store.index();
    expect(await listed(index)).toEqual([['/refs/a.json', 1]]);
    store.live.delete('c2');
    store.published.add('c2');
    expect(await listed(index)).toEqual([
      ['/refs/a.json', 1],
      ['/refs/b.json', 2],
    ]);
  });

  it('lists what is on disk after older refs were removed and newer ones added by another writer', async () => {
    const store = new FakeStore();
    for (const [name, n] of [['a', 1], ['b', 2], ['c', 3]] as const) {
      store.add(name, n, `c${n}`);
      store.published.add(`c${n}`);
    }
    const index = store.index();
    expect((await listed(index)).map(([, n]) => n)).toEqual([1, 2, 3]);
    store.refs.delete('/refs/a.json');
    store.add('d', 4, 'c4');
    store.published.add('c4');
    expect(await listed(index)).toEqual([
      ['/refs/b.json', 2],
      ['/refs/c.json', 3],
      ['/refs/d.json', 4],
    ]);
  });

  it('numbers a newer ref after the ones already listed, as a first listing would', async () => {
    const store = new FakeStore();
    store.addPublished('a', 1, 'c1');
    store.addPublished('b', 1, 'c2');
    const index = store.index();
    // Two branches' first versions merged: the second is numbered after the first.
    expect((await listed(index)).map(([, n]) => n)).toEqual([1, 2]);
    store.add('c', 2, 'c3');
    store.published.add('c3');
    expect((await listed(index)).map(([, n]) => n)).toEqual([1, 2, 3]);
    expect((await listed(store.index())).map(([, n]) => n)).toEqual([1, 2, 3]);
  });

  it('keeps at most its bound of parsed records, and lists the same once it has dropped them', async () => {
    // Ten keys of three versions each.
    const refs = new Map<string, VersionRecord>();
    for (let k = 0; k < 10; k++) {
      for (let n = 1; n <= 3; n++) {
        refs.set(`/refs/k${k}/${n}.json`, { logicalKey: `k${k}`, fullKey: `k${k}_${n}`, version: n, commit: `c${n}`, checksum: 'c'.repeat(64) } as unknown as VersionRecord);
      }
    }
    const indexOf = (maxCachedRecords?: number) =>
      new VersionIndex(
        {
          listPaths: async (key: string) => [...refs.keys()].filter((path) => path.startsWith(`/refs/${key}/`)).sort(),
          readIfExists: async (path: string) => refs.get(path) ?? null,
        },
        {
          operationFor: async (_commit: string, fullKey: string) => {
            const record = [...refs.values()].find((r) => r.fullKey === fullKey)!;
            return { fullKey, logicalKey: record.logicalKey, version: record.version, checksum: record.checksum } as CommitOperation;
          },
        },
        undefined,
        undefined,
        maxCachedRecords,
      );
    const listAll = async (index: VersionIndex) => {
      const all: unknown[] = [];
      for (let k = 0; k < 10; k++) all.push((await index.list(`k${k}`)).versions.map((v) => [v.path, v.version]));
      return all;
    };
    const bounded = indexOf(5);
    const unbounded = indexOf();
    const expected = await listAll(unbounded);
    expect(unbounded.cachedRecordCount).toBe(30);
    expect(await listAll(bounded)).toEqual(expected);
    // The bound, give or take one key's refs.
    expect(bounded.cachedRecordCount).toBeLessThanOrEqual(5 + 3);
    expect(await listAll(bounded)).toEqual(expected);
    expect(bounded.cachedRecordCount).toBeLessThanOrEqual(5 + 3);
  });

  it('does not keep a listing that was under way when a ref it read was rewritten', async () => {
    const store = new FakeStore();
    store.addPublished('a', 1, 'c1');
    store.addPublished('b', 2, 'c2');
    const index = store.index();
    let open!: () => void;
    store.gate = { path: '/refs/b.json', wait: new Promise((resolve) => (open = resolve)) };
    const running = listed(index);
    // a is read and cached, b's read waits: a is rewritten in place with a higher number (as settling does) and remembered.
    await new Promise((resolve) => setImmediate(resolve));
    const settled = { ...store.refs.get('/refs/a.json')!, version: 7 };
    store.refs.set('/refs/a.json', settled);
    index.remember('/refs/a.json', settled);
    open();
    expect(await running).toEqual([
      ['/refs/a.json', 1],
      ['/refs/b.json', 2],
    ]);
    // The listing that read the old a must not be reused: the next one numbers a 7 and b after it.
    expect(await listed(index)).toEqual([
      ['/refs/a.json', 7],
      ['/refs/b.json', 8],
    ]);
  });

  it('re-reads only new refs of a key larger than its bound, listing after listing', async () => {
    const refs = new Map<string, VersionRecord>();
    const add = (n: number) =>
      refs.set(`/refs/${String(n).padStart(6, '0')}.json`, { logicalKey: KEY, fullKey: `${KEY}_${n}`, version: n, commit: `c${n}`, checksum: 'c'.repeat(64) } as unknown as VersionRecord);
    for (let n = 1; n <= 1000; n++) add(n);
    let reads = 0;
    const index = new VersionIndex(
      {
        listPaths: async () => [...refs.keys()].sort(),
        readIfExists: async (path: string) => {
          reads++;
          return refs.get(path) ?? null;
        },
      },
      { operationFor: async (_commit: string, fullKey: string) => ({ ...refs.get(`/refs/${fullKey.slice(KEY.length + 1).padStart(6, '0')}.json`)! }) as unknown as CommitOperation },
      undefined,
      undefined,
      999,
    );
    for (let save = 1; save <= 10; save++) {
      add(1000 + save);
      expect((await index.list(KEY)).versions).toHaveLength(1000 + save);
    }
    expect(reads).toBe(1010);
  });
});

/**
 * Listings and record reads under way while a ref they read is rewritten in
 * place (as settling a merge's numbers does) must not leave the old record
 * cached: ref a (version 1) and ref b (stored 1, read as 2), b settled to 2,
 * then a removed; every later listing must number b 2.
 */
describe('version index, a ref rewritten while it is read', () => {
  const rec = (name: string, version: number, commit: string) =>
    ({ logicalKey: KEY, fullKey: `${KEY}_${name}`, version, commit, checksum: 'c'.repeat(64) }) as unknown as VersionRecord;

  function setup(withEpoch: boolean, maxCachedRecords?: number) {
    const refs = new Map<string, VersionRecord>([
      ['/refs/a.json', rec('a', 1, 'c1')],
      ['/refs/b.json', rec('b', 1, 'c2')],
    ]);
    let gate: { commit: string; wait: Promise<void> } | null = null;
    const state = { epoch: 'e1' };
    const index = new VersionIndex(
      {
        listPaths: async () => [...refs.keys()].sort(),
        readIfExists: async (path: string) => refs.get(path) ?? null,
        ...(withEpoch ? { settleEpoch: async () => state.epoch } : {}),
      },
      {
        operationFor: async (commit: string, fullKey: string) => {
          // A slow commit (a large one read whole) while the test acts.
          if (gate?.commit === commit) {
            const waiting = gate;
            gate = null;
            await waiting.wait;
          }
          return { fullKey, logicalKey: KEY, version: 1, checksum: 'c'.repeat(64) } as CommitOperation;
        },
      },
      undefined,
      undefined,
      maxCachedRecords,
    );
    const stall = (commit: string) => {
      let open!: () => void;
      gate = { commit, wait: new Promise<void>((resolve) => (open = resolve)) };
      return () => open();
    };
    return { refs, index, state, stall };
  }
  const turns = async () => {
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const settleB = (refs: Map<string, VersionRecord>) => {
    const settled = rec('b', 2, 'c2');
    refs.set('/refs/b.json', settled);
    return settled;
  };

  /** Lists while b's commit is slow to read; meanwhile this process settles b and remembers it. Then its GC removes a. */
  const rememberWhileListing = async ({ refs, index, stall }: ReturnType<typeof setup>) => {
    const open = stall('c2');
    const running = listed(index);
    await turns();
    index.remember('/refs/b.json', settleB(refs));
    open();
    await running;
    refs.delete('/refs/a.json');
    index.forget('/refs/a.json');
  };

  it('when this process remembers the rewrite while a listing checks the old ref', async () => {
    const store = setup(false);
    await rememberWhileListing(store);
    expect(await listed(store.index)).toEqual([['/refs/b.json', 2]]);
  });

  it('when another process settled it and a concurrent listing saw the new epoch first', async () => {
    const { refs, index, state, stall } = setup(true);
    await listed(index);
    index.forget('/refs/b.json');
    const open = stall('c2');
    const running = listed(index);
    await turns();
    settleB(refs);
    state.epoch = 'e2';
    await listed(index);
    open();
    await running;
    // The other process's GC then removes a, which changes no epoch.
    refs.delete('/refs/a.json');
    expect(await listed(index)).toEqual([['/refs/b.json', 2]]);
  });

  it('when the bound dropped the ref from the cache before it was remembered', async () => {
    const store = setup(false, 2);
    await listed(store.index);
    // A third record, of another key: over the bound, this key's records go.
    store.index.remember('/refs/other/x.json', { ...rec('x', 1, 'c9'), logicalKey: 'other' } as VersionRecord);
    expect(store.index.cachedRecordCount).toBe(1);
    await rememberWhileListing(store);
    expect(await listed(store.index)).toEqual([['/refs/b.json', 2]]);
  });
});

describe('cachedRecordsBound', () => {
  it('holds a million versions under Node\'s usual heap limit, and never less than the least bound', () => {
    expect(cachedRecordsBound(4 * 1024 ** 3)).toBeGreaterThan(1_100_000);
    expect(cachedRecordsBound(256 * 1024 ** 2)).toBe(MIN_CACHED_RECORDS);
    // About a quarter of the heap at the measured cost of a record.
    expect(cachedRecordsBound(2 * 1024 ** 3) * 700).toBeLessThanOrEqual((2 * 1024 ** 3) / 4);
  });
});
