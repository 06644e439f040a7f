/**
 * Listing a key again: the index keeps the last listing in which every ref
 * was published, and must still answer exactly what is on disk when refs
 * were added, removed or published since.
 */
import { describe, expect, it } from 'vitest';
import type { CommitOperation, VersionRecord } from '../../src/model/records.js';
import type { PendingCommits } from '../../src/store/staging.js';
import { VersionIndex } from '../../src/store/version-index.js';

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
});
