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

  index(): VersionIndex {
    return new VersionIndex(
      {
        listPaths: async () => [...this.refs.keys()].sort(),
        readIfExists: async (path: string) => this.refs.get(path) ?? null,
      },
      {
        operationFor: async (commit: string, fullKey: string) => {
          if (!this.published.has(commit)) return null;
          const record = [...this.refs.values()].find((r) => r.fullKey === fullKey)!;
          return { fullKey, logicalKey: KEY, version: record.version, checksum: record.checksum } as CommitOperation;
        },
      },
      async (): Promise<PendingCommits> => ({ live: new Set(this.live), abandoned: new Set(), abandonedRecords: new Map() }),
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
    store.add('a', 1, 'c1');
    store.add('b', 1, 'c2');
    store.published.add('c1');
    store.published.add('c2');
    const index = store.index();
    // Two branches' first versions merged: the second is numbered after the first.
    expect((await listed(index)).map(([, n]) => n)).toEqual([1, 2]);
    store.add('c', 2, 'c3');
    store.published.add('c3');
    expect((await listed(index)).map(([, n]) => n)).toEqual([1, 2, 3]);
    expect((await listed(store.index())).map(([, n]) => n)).toEqual([1, 2, 3]);
  });
});
