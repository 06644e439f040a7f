/**
 * One refresh of the statistics index (src/manager/statistics-index.ts): the
 * main file as it becomes, the sidecars it loads, and the files to write.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  countRef,
  isKeySidecar,
  isShardSidecar,
  summariseKey,
  summariseShard,
  type IndexedRef,
  type KeySidecar,
  type ShardSidecar,
  type StatsIndexMain,
} from '../model/statistics-index.js';
import type { StoreFs } from '../store/fs.js';

/** A sidecar whose generation does not match the main file: the index is rebuilt from nothing. */
export class StaleIndex extends Error {}

/** One refresh of the index: the main file as it becomes, and the files to write. */
export class IndexUpdate {
  readonly files = new Map<string, unknown>();
  private readonly shards = new Map<string, ShardSidecar>();
  private readonly keys = new Map<string, Record<string, IndexedRef>>();
  private readonly touched = new Map<string, number>();
  diskBytes = 0;

  constructor(
    private readonly fs: StoreFs,
    private readonly directory: string,
    readonly main: StatsIndexMain,
  ) {
    this.files.set('main.json', main);
  }

  readSidecar<T extends { gen: string }>(name: string, gen: string, isShape: (value: unknown) => value is T): T {
    const parsed = readJson(this.fs, join(this.directory, name));
    if (!isShape(parsed) || parsed.gen !== gen) throw new StaleIndex(name);
    return parsed;
  }

  /** Bytes of `objects/pack/` beyond the packed objects the shards count. */
  packBytes = 0;

  shard(fanout: string): ShardSidecar {
    let shard = this.shards.get(fanout);
    if (shard === undefined) {
      const summary = this.main.shards[fanout];
      shard = summary === undefined ? { gen: '', objects: {}, refs: {} } : this.readSidecar(shardFile(fanout), summary.gen, isShardSidecar);
      this.shards.set(fanout, shard);
    }
    return shard;
  }

  touchShard(fanout: string, mtimeMs?: number): void {
    this.touched.set(fanout, mtimeMs ?? this.touched.get(fanout) ?? this.main.shards[fanout]?.mtimeMs ?? -1);
  }

  /** The refs the index holds for a key directory ({} for one it does not know). */
  keyRefs(name: string): Record<string, IndexedRef> {
    let refs = this.keys.get(name);
    if (refs === undefined) {
      const summary = this.main.keys[name];
      refs = summary === undefined ? {} : this.readSidecar(keyFile(name), summary.gen, isKeySidecar).refs;
      this.keys.set(name, refs);
    }
    return refs;
  }

  replaceKey(name: string, refs: Record<string, IndexedRef>, bytes: number, mtimeMs: number): void {
    // Only refs that came or went move counts: a save touches the shard of its own checksum, not those of the key's history.
    const old = this.keyRefs(name);
    this.countRefs(Object.fromEntries(Object.entries(old).filter(([file]) => refs[file] === undefined)), -1);
    this.countRefs(Object.fromEntries(Object.entries(refs).filter(([file]) => old[file] === undefined)), 1);
    this.keys.set(name, refs);
    const sidecar: KeySidecar = { gen: newGen(), refs };
    this.main.keys[name] = summariseKey(refs, bytes, mtimeMs, sidecar.gen);
    this.files.set(keyFile(name), sidecar);
  }

  dropKey(name: string): void {
    this.countKey(name, -1);
    delete this.main.keys[name];
  }

  /** Moves the counts of a key's indexed versions (as the main file knows them) by `delta`. */
  private countKey(name: string, delta: number): void {
    this.countRefs(this.keyRefs(name), delta);
  }

  private countRefs(refs: Record<string, IndexedRef>, delta: number): void {
    for (const [checksum, size] of Object.values(refs)) {
      const fanout = checksum.slice(0, 2);
      countRef(this.shard(fanout), checksum.slice(2), size, delta);
      this.touchShard(fanout);
    }
  }

  summariseShards(): void {
    for (const [fanout, mtimeMs] of this.touched) {
      const shard = this.shard(fanout);
      if (Object.keys(shard.objects).length === 0 && Object.keys(shard.refs).length === 0) {
        delete this.main.shards[fanout];
        continue;
      }
      shard.gen = newGen();
      this.main.shards[fanout] = summariseShard(shard, mtimeMs);
      this.files.set(shardFile(fanout), shard);
    }
  }
}

/** Key directory names may be as long as a file name may be: sidecars are named by a hash of them. */
function keyFile(dirName: string): string {
  return join('keys', `${createHash('sha256').update(dirName).digest('hex').slice(0, 32)}.json`);
}

function shardFile(fanout: string): string {
  return join('shards', `${fanout}.json`);
}

export function newGen(): string {
  return randomBytes(8).toString('hex');
}

export function readJson(fs: StoreFs, path: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path).toString('utf8'));
  } catch {
    return undefined;
  }
}
