/**
 * Keeps the statistics index under `local/stats/` (src/model/statistics-index.ts,
 * docs/FORMAT.md) in step with the store, so `getStatistics()` reads only the
 * directories that changed since the last call: a stat of each key
 * directory, each object fanout directory and `commits/`, then the refs or
 * objects of those whose mtime moved. Everything in `.ae/` outside `local/`
 * may change behind the index's back (a clone, a `git checkout` or merge, a
 * save of another process), which is why each summary is checked against its
 * directory before it is used, and a summary that does not match its sidecar
 * file throws the whole index away.
 *
 * The reads are synchronous, through the context's `StoreFs`, because
 * `getStatistics()` is; the writes are asynchronous and best effort, after
 * the figures are returned: a failed write only means reading again next time.
 */
import { join } from 'node:path';
import { refFileTimestamp } from '../model/keys.js';
import {
  emptyStatsIndex,
  isCommitsSidecar,
  isStatsIndexMain,
  isTrusted,
  recordedMtime,
  type CommitsSidecar,
  type IndexedRef,
  type StatsIndexMain,
} from '../model/statistics-index.js';
import { tempPathFor } from '../store/atomic-write.js';
import type { StoreFs } from '../store/fs.js';
import { readPackedSizesSync } from '../store/packs.js';
import { parseVersionRecord } from '../store/refs.js';
import type { StoreContext } from './context.js';
import { IndexUpdate, newGen, readJson, StaleIndex } from './statistics-index-update.js';

const FANOUT = /^[0-9a-f]{2}$/;


export interface IndexedStatistics {
  main: StatsIndexMain;
  /** Bytes of every regular file of the store, the index's own directory left out. */
  diskBytes: number;
}

/** Reads the store's statistics through the index, refreshing what changed; schedules the index's write. */
export class StatisticsIndex {
  private writing: Promise<void> = Promise.resolve();
  private readonly published = new Set<string>();
  private packed: { mtimeMs: number; byFanout: Map<string, Record<string, number>>; fileBytes: number; entryBytes: number } | null = null;

  constructor(private readonly ctx: StoreContext) {}

  get directory(): string {
    return join(this.ctx.layout.local, 'stats');
  }

  read(): IndexedStatistics {
    let update: IndexUpdate;
    try {
      update = this.refresh(this.readMain());
    } catch (error) {
      if (!(error instanceof StaleIndex)) throw error;
      update = this.refresh(emptyStatsIndex());
    }
    const files = update.files;
    this.writing = this.writing.then(() => this.writeFiles(files)).catch(() => undefined);
    return { main: update.main, diskBytes: update.diskBytes };
  }

  /** Resolves once the index writes scheduled so far have finished (or failed). */
  flush(): Promise<void> {
    return this.writing;
  }

  private readMain(): StatsIndexMain {
    const parsed = readJson(this.ctx.fs, join(this.directory, 'main.json'));
    return isStatsIndexMain(parsed) ? parsed : emptyStatsIndex();
  }

  private refresh(indexed: StatsIndexMain): IndexUpdate {
    const { layout } = this.ctx;
    const settledStats = this.ctx.fs.lstatSync(join(layout.local, 'settled'));
    const settled = settledStats === undefined ? '' : `${settledStats.ino}:${settledStats.mtimeMs}`;
    // Settled refs were rewritten under their names, which the index reads only once: start again.
    const main = indexed.settled === settled ? indexed : { ...emptyStatsIndex(), settled };
    const update = new IndexUpdate(this.ctx.fs, this.directory, main);
    const readAt = Date.now();
    const onDisk = new Set<string>();
    for (const name of listSync(this.ctx.fs, layout.keyRefs)) {
      const path = join(layout.keyRefs, name);
      const stats = this.ctx.fs.lstatSync(path);
      if (!stats?.isDirectory()) continue;
      onDisk.add(name);
      if (!isTrusted(main.keys[name]?.mtimeMs, stats.mtimeMs)) this.rescanKey(update, name, stats.mtimeMs, readAt);
    }
    for (const name of Object.keys(main.keys)) if (!onDisk.has(name)) update.dropKey(name);
    const fanouts = new Set(listSync(this.ctx.fs, layout.objects).filter((name) => FANOUT.test(name)));
    const packed = this.packedObjects();
    for (const name of new Set([...fanouts, ...packed.byFanout.keys(), ...Object.keys(main.shards)])) {
      const stats = fanouts.has(name) ? this.ctx.fs.lstatSync(join(layout.objects, name)) : undefined;
      const looseMtime = stats?.isDirectory() ? stats.mtimeMs : -1;
      // Packed objects are counted in the shard of their fan-out: a pack added or removed moves every shard's time.
      const mtimeMs = Math.max(looseMtime, packed.mtimeMs);
      if (!isTrusted(main.shards[name]?.mtimeMs, mtimeMs)) {
        this.rescanObjects(update, name, looseMtime === -1, recordedMtime(mtimeMs, readAt, true), packed.byFanout.get(name));
      }
    }
    update.packBytes = packed.fileBytes - packed.entryBytes;
    update.summariseShards();
    this.refreshCommits(update, readAt);
    update.diskBytes = this.measureRest(update);
    return update;
  }

  /** Reads every file of a key directory that changed, and moves its versions' counts between shards. */
  private rescanKey(update: IndexUpdate, name: string, mtimeMs: number, readAt: number): void {
    const dir = join(this.ctx.layout.keyRefs, name);
    // A ref keeps its content under its name (settling, which rewrites it, starts the index again), so only new names are read.
    const known = update.keyRefs(name);
    const refs: Record<string, IndexedRef> = {};
    let bytes = 0;
    let isComplete = true;
    for (const file of listSync(this.ctx.fs, dir)) {
      const indexed = known[file];
      if (indexed !== undefined) {
        refs[file] = indexed;
        bytes += indexed[4];
        continue;
      }
      const path = join(dir, file);
      const stats = this.ctx.fs.lstatSync(path);
      if (!stats?.isFile()) continue;
      bytes += stats.size;
      if (refFileTimestamp(file) === null) continue;
      let record;
      try {
        record = parseVersionRecord(this.ctx.fs.readFileSync(path), path);
      } catch {
        continue; // Damaged or vanished refs are fsck's business, not a statistic.
      }
      // A ref of a commit not yet published may become visible without its directory changing.
      if (!this.isPublished(record.commit)) {
        isComplete = false;
        continue;
      }
      refs[file] = [record.checksum, record.size, record.compressed ? 1 : 0, record.timestamp, stats.size];
    }
    update.replaceKey(name, refs, bytes, recordedMtime(mtimeMs, readAt, isComplete));
  }

  /** The packed objects by fan-out, read again only when `objects/pack/` changed. */
  private packedObjects(): NonNullable<StatisticsIndex['packed']> {
    const mtimeMs = this.ctx.fs.lstatSync(join(this.ctx.layout.objects, 'pack'))?.mtimeMs ?? -1;
    if (this.packed?.mtimeMs === mtimeMs && mtimeMs !== -1) return this.packed;
    const read = readPackedSizesSync(this.ctx.fs, this.ctx.layout);
    const byFanout = new Map<string, Record<string, number>>();
    let entryBytes = 0;
    for (const [checksum, size] of read.sizes) {
      const fanout = checksum.slice(0, 2);
      if (!byFanout.has(fanout)) byFanout.set(fanout, {});
      byFanout.get(fanout)![checksum.slice(2)] = size;
      entryBytes += size;
    }
    this.packed = { mtimeMs: read.mtimeMs, byFanout, fileBytes: read.fileBytes, entryBytes };
    return this.packed;
  }

  private rescanObjects(update: IndexUpdate, fanout: string, isGone: boolean, mtimeMs: number, packed: Record<string, number> = {}): void {
    const shard = update.shard(fanout);
    const dir = join(this.ctx.layout.objects, fanout);
    const objects: Record<string, number> = {};
    for (const name of isGone ? [] : listSync(this.ctx.fs, dir)) {
      // Objects never change once written: only names not seen before are measured.
      const known = shard.objects[name];
      if (known !== undefined) objects[name] = known;
      else {
        const stats = this.ctx.fs.lstatSync(join(dir, name));
        if (stats?.isFile()) objects[name] = stats.size;
      }
    }
    for (const [name, size] of Object.entries(packed)) objects[name] ??= size;
    shard.objects = objects;
    update.touchShard(fanout, mtimeMs);
  }

  private refreshCommits(update: IndexUpdate, readAt: number): void {
    const dir = this.ctx.layout.commits;
    const stats = this.ctx.fs.lstatSync(dir);
    const mtimeMs = stats?.isDirectory() ? stats.mtimeMs : -1;
    if (isTrusted(update.main.commits?.mtimeMs, mtimeMs)) return;
    const old = update.main.commits === null ? {} : update.readSidecar('commits.json', update.main.commits.gen, isCommitsSidecar).files;
    const files: Record<string, number> = {};
    let bytes = 0;
    for (const name of mtimeMs === -1 ? [] : listSync(this.ctx.fs, dir)) {
      const size = old[name] ?? this.ctx.fs.lstatSync(join(dir, name))?.size;
      if (size === undefined) continue;
      files[name] = size;
      bytes += size;
    }
    const sidecar: CommitsSidecar = { gen: newGen(), files };
    update.main.commits = { mtimeMs: recordedMtime(mtimeMs, readAt, true), gen: sidecar.gen, bytes };
    update.files.set('commits.json', sidecar);
  }

  /** Bytes of the regular files the summaries do not cover: store files, tags, hooks, `local/` but the index. */
  private measureRest(update: IndexUpdate): number {
    const { layout } = this.ctx;
    // The packs' own bytes beyond the objects the shards count in them (headers, indexes).
    let bytes = (update.main.commits?.bytes ?? 0) + update.packBytes;
    for (const key of Object.values(update.main.keys)) bytes += key.bytes;
    for (const shard of Object.values(update.main.shards)) bytes += shard.objectBytes;
    const covered = (dir: string, name: string): boolean =>
      (dir === layout.keyRefs && update.main.keys[name] !== undefined) ||
      (dir === layout.objects && (update.main.shards[name] !== undefined || name === 'pack')) ||
      join(dir, name) === layout.commits ||
      join(dir, name) === this.directory;
    const walk = (dir: string): number => {
      let total = 0;
      for (const name of listSync(this.ctx.fs, dir)) {
        if (covered(dir, name)) continue;
        const stats = this.ctx.fs.lstatSync(join(dir, name));
        if (stats?.isDirectory()) total += walk(join(dir, name));
        else if (stats?.isFile()) total += stats.size;
      }
      return total;
    };
    return bytes + walk(layout.store);
  }

  private isPublished(commitId: string): boolean {
    if (this.published.has(commitId)) return true;
    // Published commits never become unpublished within one history; a checkout that removes one changes the key directory too.
    const isFile = this.ctx.fs.lstatSync(this.ctx.commits.pathOf(commitId))?.isFile() === true;
    if (isFile) this.published.add(commitId);
    return isFile;
  }

  private async writeFiles(files: Map<string, unknown>): Promise<void> {
    if (files.size === 0) return;
    const { fs, layout } = this.ctx;
    // Statistics of a store that does not exist (yet) create nothing: the index lives in an existing `local/`.
    if (!(await fs.lstat(layout.local).then((stats) => stats.isDirectory(), () => false))) return;
    await fs.mkdir(join(this.directory, 'keys'), { recursive: true });
    await fs.mkdir(join(this.directory, 'shards'), { recursive: true });
    await fs.mkdir(layout.tmp, { recursive: true });
    // The main file goes last: until it is in place, the sidecars written before it do not match it and are not used.
    const names = [...files.keys()].filter((name) => name !== 'main.json');
    if (files.has('main.json')) names.push('main.json');
    for (const name of names) {
      const target = join(this.directory, name);
      const temp = tempPathFor(layout.tmp, target);
      await fs.writeFile(temp, JSON.stringify(files.get(name)));
      await fs.rename(temp, target);
    }
  }
}

function listSync(fs: StoreFs, dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
