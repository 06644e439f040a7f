/**
 * Keeps the statistics index under `local/stats/` (src/model/statistics-index.ts,
 * docs/FORMAT.md) in step with the store, so `getStatistics()` reads the
 * index and only what changed since its last call.
 *
 * Writers holding the lock append what they change to the change log
 * (store/change-log.ts). When every session since the index's last read
 * declared its changes, and nothing else moved (the boot, the git index,
 * `commits/` and `refs/keys/` as the last session left them), only the
 * declared key directories are read again: the precise path. Otherwise every
 * key directory is `lstat`ed against the mtime its summary recorded: the full
 * check. Object fanouts are `lstat`ed every time (there are at most 256); one
 * whose mtime is the one the last session left gets only its declared
 * objects measured, any other change is read again whole. On the precise
 * path `commits/` is not listed either: the sessions name the commits they
 * published, and their sizes are added to a total known to match the log
 * (see `commits.isAtLog` in docs/FORMAT.md).
 *
 * The reads are synchronous, through the context's `StoreFs`, because
 * `getStatistics()` is; the writes are asynchronous and best effort, after
 * the figures are returned: a failed write only means reading again next time.
 */
import { join } from 'node:path';
import { planChanges, type ChangePlan } from '../model/change-log.js';
import { refFileTimestamp } from '../model/keys.js';
import {
  emptyStatsIndex,
  hasSub,
  isStatsIndexMain,
  isTrusted,
  NO_SUBS,
  recentCount,
  recentIn,
  recordedMtime,
  STATS_INDEX_FORMAT,
  type IndexedRef,
  type KeyDirSummary,
  type StatsIndexMain,
  type WatchState,
} from '../model/statistics-index.js';
import { statsDirectory } from '../store/change-log.js';
import type { StoreFs } from '../store/fs.js';
import { forEachLimit } from '../store/map-limit.js';
import { objectPath } from '../store/objects.js';
import { readPackedSizesSync, type PackedSizes } from '../store/packs.js';
import { parseVersionRecord } from '../store/refs.js';
import type { StoreContext } from './context.js';
import { IndexUpdate, readJson, RECENT_FOLD_AT, StaleIndex, subFile } from './statistics-index-update.js';
import { currentBoot, gitStamp } from './statistics-index-watch.js';
import { writeIndexFiles } from './statistics-index-write.js';

const FANOUT = /^[0-9a-f]{2}$/;
/**
 * The recorded time of a fanout that has no directory because all its
 * objects are packed: trusted while `objects/pack/` is, since no loose file
 * can be added without creating the directory.
 */
const ONLY_PACKED = -2;

export interface IndexedStatistics {
  main: StatsIndexMain;
  /** Bytes of every regular file of the store, the index's own directory left out. */
  diskBytes: number;
  /** Every key directory's name and summary (reads every bucket). */
  keys: () => Array<[string, KeyDirSummary]>;
}

interface Changes {
  plan: ChangePlan;
  log: WatchState['log'];
}

interface OnDisk {
  main: StatsIndexMain;
  /** The main file's birth time (file system clock); +Infinity when unknown, which claims no object new. */
  bornMs: number;
}

/** Sub-shard files read at once when `recent` is folded. */
const FOLD_READS = 16;

/** Reads the store's statistics through the index, refreshing what changed; schedules the index's write. */
export class StatisticsIndex {
  private writing: Promise<void> = Promise.resolve();
  private readonly published = new Set<string>();

  constructor(private readonly ctx: StoreContext) {}

  get directory(): string {
    return statsDirectory(this.ctx.layout);
  }

  read(): IndexedStatistics {
    let update: IndexUpdate | undefined;
    // A sidecar newer than its main file is a refresh of another process being written: read once more, then rebuild.
    for (let attempt = 0; update === undefined; attempt++) {
      const onDisk = this.readMain();
      try {
        update = this.refresh(attempt < 2 ? onDisk : { main: { ...emptyStatsIndex(), seq: onDisk.main.seq }, bornMs: Infinity });
      } catch (error) {
        if (!(error instanceof StaleIndex) || attempt >= 2) throw error;
      }
    }
    const { files, baseSeq } = { files: update.files, baseSeq: update.main.seq - 1 };
    const isFolding = recentCount(update.main.recent) >= RECENT_FOLD_AT;
    this.writing = this.writing
      .then(() => writeIndexFiles(this.ctx, this.directory, files, baseSeq))
      .then(() => (isFolding ? this.foldRecent() : undefined))
      .catch(() => undefined);
    const refreshed = update;
    return { main: update.main, diskBytes: update.diskBytes, keys: () => refreshed.allKeys() };
  }

  /** Resolves once the index writes scheduled so far have finished (or failed). */
  flush(): Promise<void> {
    return this.writing;
  }

  /** The main file, and when it was made (its file's birth time; +Infinity without one). */
  private readMain(): OnDisk {
    const path = join(this.directory, 'main.json');
    const parsed = readJson(this.ctx.fs, path);
    if (!isStatsIndexMain(parsed)) return { main: emptyStatsIndex(), bornMs: Infinity };
    // Taken after the read: a file replaced in between is younger than what was read, which only claims fewer objects new.
    const stats = this.ctx.fs.lstatSync(path);
    return { main: parsed, bornMs: stats?.isFile() === true && stats.birthtimeMs > 0 ? stats.birthtimeMs : Infinity };
  }

  private refresh(onDisk: OnDisk): IndexUpdate {
    const { fs, layout } = this.ctx;
    const indexed = onDisk.main;
    const settledStats = fs.lstatSync(join(layout.local, 'settled'));
    const settled = settledStats === undefined ? '' : `${settledStats.ino}:${settledStats.mtimeMs}`;
    // Settled refs were rewritten under their names, which the index reads only once: start again.
    const isKept = indexed.settled === settled;
    const main: StatsIndexMain = isKept ? indexed : { ...emptyStatsIndex(), settled };
    const update = new IndexUpdate(fs, this.directory, { ...main, format: STATS_INDEX_FORMAT, seq: indexed.seq + 1 }, indexed.seq);
    const readAt = Date.now();
    const changes = this.readChanges(main.watch);
    const boot = currentBoot();
    const git = gitStamp(fs, layout.root);
    const commitsMtimeMs = mtimeOf(fs, layout.commits);
    const keyRefsMtimeMs = mtimeOf(fs, layout.keyRefs);
    const watch = main.watch;
    const isPrecise =
      watch !== null &&
      changes.plan.isPrecise &&
      watch.boot === boot &&
      watch.git === git &&
      commitsMtimeMs === (changes.plan.commitsMtimeMs ?? watch.commitsMtimeMs) &&
      keyRefsMtimeMs === (changes.plan.keyRefsMtimeMs ?? watch.keyRefsMtimeMs);
    if (isPrecise) {
      if (isKept) this.claimNewObjects(update, changes.plan.created, onDisk.bornMs);
      this.refreshDeclaredKeys(update, changes.plan.keyDirs, readAt);
    } else this.refreshAllKeys(update, readAt);
    this.refreshObjects(update, changes.plan, readAt);
    if (isPrecise && changes.plan.commitIds !== null && main.commits?.isAtLog === true) this.addPublishedCommits(update, changes.plan.commitIds, commitsMtimeMs, readAt);
    else if (this.refreshCommits(update, commitsMtimeMs, readAt)) {
      // Listed: exact at the log's offset only if the log ends there after the listing (no session open at its read, none since).
      const log = this.ctx.fs.lstatSync(this.ctx.changeLog.path);
      const isAtLog = (log?.isFile() ? log.ino : 0) === changes.log.ino && (log?.size ?? 0) === changes.log.offset;
      update.main.commits = { ...update.main.commits!, isAtLog };
    }
    const trust = (mtimeMs: number) => (isPrecise ? mtimeMs : recordedMtime(mtimeMs, readAt, true));
    update.main.watch = { boot, git, commitsMtimeMs: trust(commitsMtimeMs), keyRefsMtimeMs: trust(keyRefsMtimeMs), log: changes.log };
    update.files.set('main.json', update.main);
    update.diskBytes = this.measureRest(update);
    return update;
  }

  /**
   * New loose objects the index cannot know, whose sub-shards need not be
   * read: each was declared written as a new file (no file of it existed,
   * loose or packed: `n` of a declare line) by a session after the main
   * file's place in the log, and its file was born after the main file was,
   * so after every read of the refresh that wrote the main file. Both times
   * are the file system's, so a process's clock does not enter; only a clock
   * of the machine stepped back between the two could claim an object the
   * index knows, which then counts twice until `recent` is folded.
   */
  private claimNewObjects(update: IndexUpdate, created: ReadonlySet<string>, mainBornMs: number): void {
    for (const checksum of created) {
      const stats = this.ctx.fs.lstatSync(objectPath(this.ctx.layout.objects, checksum));
      if (stats?.isFile() !== true || stats.birthtimeMs <= mainBornMs) continue;
      update.claimNew(checksum);
      // Measured here, so `measureObject` finds it known and does not `lstat` it again.
      update.setObject(checksum, stats.size);
    }
  }

  /**
   * After a refresh that left `recent` large, moves its figures into their
   * sub-shards: reads those files ahead, several at a time, rather than one
   * after the other in a later refresh, then writes them and the main file
   * over the one just written (or nothing, if another refresh came first).
   */
  private async foldRecent(): Promise<void> {
    const { main } = this.readMain();
    if (recentCount(main.recent) === 0) return;
    const fanoutSubs = (id: string) => main.shards[id.slice(0, 2)]?.subs ?? NO_SUBS;
    const ids = new Set(recentIn(main.recent, '').map((checksum) => checksum.slice(0, 4)));
    const present = [...ids].filter((id) => hasSub(fanoutSubs(id), parseInt(id.slice(2), 16)));
    const preread = new Map<string, Buffer>();
    await forEachLimit(present, FOLD_READS, async (id) => {
      const name = subFile(id);
      preread.set(name, await this.ctx.fs.readFile(join(this.directory, name)));
    });
    const update = new IndexUpdate(this.ctx.fs, this.directory, { ...main, seq: main.seq + 1 }, main.seq, preread);
    update.foldRecent();
    update.summariseShards();
    update.files.set('main.json', update.main);
    await writeIndexFiles(this.ctx, this.directory, update.files, main.seq);
  }

  /** The change log's lines since the index's last read, and where the next read starts. */
  private readChanges(watch: WatchState | null): Changes {
    const path = this.ctx.changeLog.path;
    const current = this.ctx.fs.lstatSync(path);
    const currentIno = current?.isFile() ? current.ino : 0;
    const read = (file: string, from: number) => {
      try {
        return this.ctx.fs.readFileSync(file).subarray(from).toString('utf8');
      } catch {
        return '';
      }
    };
    // Without a known place in the log, every directory is checked; the log is read for where sessions still open began.
    const fromStart = (): Changes => {
      const text = read(path, 0);
      const plan = planChanges(text);
      plan.isPrecise = false;
      return { plan, log: { ino: currentIno, offset: Buffer.byteLength(text.slice(0, plan.consumed)) } };
    };
    if (watch === null) return fromStart();
    if (watch.log.ino === currentIno && (current?.size ?? 0) >= watch.log.offset) {
      const text = read(path, watch.log.offset);
      const plan = planChanges(text);
      return { plan, log: { ino: currentIno, offset: watch.log.offset + Buffer.byteLength(text.slice(0, plan.consumed)) } };
    }
    // Rotated since: the rest of the old log, then the new one.
    const old = this.ctx.fs.lstatSync(`${path}.old`);
    if (old?.isFile() && old.ino === watch.log.ino && old.size >= watch.log.offset) {
      const rest = read(`${path}.old`, watch.log.offset);
      const text = rest + read(path, 0);
      const plan = planChanges(text);
      if (plan.consumed < rest.length) return { plan, log: { ino: old.ino, offset: watch.log.offset + Buffer.byteLength(rest.slice(0, plan.consumed)) } };
      return { plan, log: { ino: currentIno, offset: Buffer.byteLength(text.slice(rest.length, plan.consumed)) } };
    }
    return fromStart();
  }

  private refreshDeclaredKeys(update: IndexUpdate, names: Set<string>, readAt: number): void {
    for (const name of names) {
      const stats = this.ctx.fs.lstatSync(join(this.ctx.layout.keyRefs, name));
      if (stats?.isDirectory()) this.rescanKey(update, name, stats.mtimeMs, readAt, false);
      else if (update.keySummary(name) !== undefined) update.dropKey(name);
    }
  }

  private refreshAllKeys(update: IndexUpdate, readAt: number): void {
    const { fs, layout } = this.ctx;
    const onDisk = new Set<string>();
    let stray = 0;
    for (const name of listSync(fs, layout.keyRefs)) {
      const stats = fs.lstatSync(join(layout.keyRefs, name));
      if (stats?.isFile()) stray += stats.size;
      if (!stats?.isDirectory()) continue;
      onDisk.add(name);
      if (!isTrusted(update.keySummary(name)?.mtimeMs, stats.mtimeMs)) this.rescanKey(update, name, stats.mtimeMs, readAt, true);
    }
    for (const name of update.knownKeys()) if (!onDisk.has(name)) update.dropKey(name);
    update.main.strayKeyRefBytes = stray;
  }

  /**
   * Reads the files of a key directory the index does not know yet, and moves
   * its versions' counts between sub-shards. A ref keeps its content under its
   * name (settling, which rewrites it, starts the index again), so only new
   * names are read; a full check also `lstat`s the known ones, since
   * `fsck --repair` and hands may rewrite a ref in place.
   */
  private rescanKey(update: IndexUpdate, name: string, mtimeMs: number, readAt: number, isVerifying: boolean): void {
    const dir = join(this.ctx.layout.keyRefs, name);
    const known = update.keyRefs(name);
    const refs: Record<string, IndexedRef> = {};
    let bytes = 0;
    let isComplete = true;
    for (const file of listSync(this.ctx.fs, dir)) {
      const indexed = known[file];
      if (indexed !== undefined && !isVerifying) {
        refs[file] = indexed;
        bytes += indexed[4];
        continue;
      }
      const path = join(dir, file);
      const stats = this.ctx.fs.lstatSync(path);
      if (!stats?.isFile()) continue;
      if (indexed !== undefined && indexed[4] === stats.size) {
        refs[file] = indexed;
        bytes += indexed[4];
        continue;
      }
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
      refs[file] = [record.checksum, record.size, record.compressed ? 1 : 0, record.timestamp, stats.size, record.version, record.reservedThrough ?? 0];
    }
    update.replaceKey(name, refs, bytes, recordedMtime(mtimeMs, readAt, isComplete));
  }

  private refreshObjects(update: IndexUpdate, plan: ChangePlan, readAt: number): void {
    const { fs, layout } = this.ctx;
    const packs = new PackedObjects(fs, layout, update.main.packs);
    const fanouts = new Set(listSync(fs, layout.objects).filter((name) => FANOUT.test(name)));
    // Declared and left objects are measured whatever their fanout's mtime says: a later session may have left it trusted.
    for (const checksum of plan.checksums) if (fanouts.has(checksum.slice(0, 2)) || packs.exist) this.measureObject(update, checksum, packs);
    const gone: string[] = [];
    const doubled = { ...(update.main.packs?.doubled ?? {}) };
    // A pack added or removed (a transaction, a bulk write, GC) reads every fanout again, with the packs' indexes.
    const candidates = [...fanouts, ...Object.keys(update.main.shards), ...(packs.changed ? packs.fanouts() : [])];
    for (const fanout of new Set(candidates)) {
      const stats = fanouts.has(fanout) ? fs.lstatSync(join(layout.objects, fanout)) : undefined;
      const dirMtimeMs = stats?.isDirectory() ? stats.mtimeMs : -1;
      const mtimeMs = dirMtimeMs === -1 && packs.exist ? ONLY_PACKED : dirMtimeMs;
      if (!packs.changed && isTrusted(update.main.shards[fanout]?.mtimeMs, mtimeMs)) continue;
      if (!packs.changed && dirMtimeMs !== -1 && plan.fanoutMtimes.get(fanout) === dirMtimeMs && update.main.shards[fanout] !== undefined) {
        // The last session left the fanout as it is: what changed in it is what the sessions declared, measured above.
        update.setShardMtime(fanout, dirMtimeMs);
        continue;
      }
      this.rescanFanout(update, fanout, dirMtimeMs === -1, packs, doubled);
      update.setShardMtime(fanout, mtimeMs === ONLY_PACKED ? ONLY_PACKED : recordedMtime(mtimeMs, readAt, true));
      if (mtimeMs === -1) gone.push(fanout);
    }
    if (!packs.exist) update.main.packs = null;
    else if (packs.changed) update.main.packs = { mtimeMs: recordedMtime(packs.mtimeMs, readAt, true), overheadBytes: packOverhead(packs.read()), doubled };
    else update.main.packs = { ...update.main.packs!, doubled };
    update.summariseShards();
    for (const fanout of gone) if (update.main.shards[fanout]?.subs === NO_SUBS && !update.hasRecentIn(fanout)) delete update.main.shards[fanout];
  }

  /**
   * Reads a fanout again, loose and packed objects alike, and notes in
   * `doubled` its packed objects that also exist loose (with their bytes in
   * the packs).
   */
  private rescanFanout(update: IndexUpdate, fanout: string, isGone: boolean, packs: PackedObjects, doubled: Record<string, number>): void {
    const loose = new Set((isGone ? [] : listSync(this.ctx.fs, join(this.ctx.layout.objects, fanout))).map((name) => fanout + name));
    const packed = packs.exist ? packs.inFanout(fanout) : [];
    const onDisk = new Set([...loose, ...packed.map(([checksum]) => checksum)]);
    for (const checksum of update.knownObjects(fanout)) if (!onDisk.has(checksum)) update.setObject(checksum, undefined);
    // Objects never change once written: only names not seen before are measured.
    for (const checksum of onDisk) this.measureObject(update, checksum, packs);
    // A packed object is counted by its loose file while it has one (as a full read counts it), else by its
    // packed bytes: either copy may have come or gone since it was measured (git, GC, a hand), so both are
    // set again; `lstat` only for the few that have both.
    for (const checksum of Object.keys(doubled)) if (checksum.startsWith(fanout)) delete doubled[checksum];
    for (const [checksum, length] of packed) {
      const bytes = loose.has(checksum) ? this.ctx.fs.lstatSync(objectPath(this.ctx.layout.objects, checksum))?.size : length;
      if (bytes !== undefined && update.objectBytes(checksum) !== bytes) update.setObject(checksum, bytes);
      if (loose.has(checksum)) doubled[checksum] = length;
    }
  }

  /** Records an object's bytes on disk: its loose file's, else its length in a pack; nothing for one found in neither. */
  private measureObject(update: IndexUpdate, checksum: string, packs: PackedObjects): void {
    if (update.objectBytes(checksum) !== undefined) return;
    const stats = this.ctx.fs.lstatSync(join(this.ctx.layout.objects, checksum.slice(0, 2), checksum.slice(2)));
    if (stats?.isFile()) update.setObject(checksum, stats.size);
    else if (packs.exist) {
      const length = packs.read().sizes.get(checksum);
      if (length !== undefined) update.setObject(checksum, length);
    }
  }

  /**
   * After sessions that each named the commits they published (and nothing
   * else changed `commits/`): the total so far plus those files, without
   * listing `commits/`, which holds a file per save outside transactions. The
   * sizes sidecar is left as it was: a later full listing measures what it lacks.
   */
  private addPublishedCommits(update: IndexUpdate, commitIds: ReadonlySet<string>, mtimeMs: number, readAt: number): void {
    let bytes = update.main.commits?.bytes ?? 0;
    for (const id of commitIds) {
      const stats = this.ctx.fs.lstatSync(this.ctx.commits.pathOf(id));
      if (stats?.isFile()) bytes += stats.size;
    }
    update.main.commits = { mtimeMs: recordedMtime(mtimeMs, readAt, true), bytes, isAtLog: true };
  }

  /** Lists `commits/` unless its recorded mtime is trusted; answers whether it listed. */
  private refreshCommits(update: IndexUpdate, mtimeMs: number, readAt: number): boolean {
    if (isTrusted(update.main.commits?.mtimeMs, mtimeMs)) return false;
    const old = update.commitFiles();
    const files: Record<string, number> = {};
    const dir = this.ctx.layout.commits;
    for (const name of mtimeMs === -1 ? [] : listSync(this.ctx.fs, dir)) {
      const size = old[name] ?? this.ctx.fs.lstatSync(join(dir, name))?.size;
      if (size !== undefined) files[name] = size;
    }
    update.setCommits(files, recordedMtime(mtimeMs, readAt, true));
    return true;
  }

  /** Bytes of the regular files the summaries do not cover: store files, tags, hooks, `local/` but the index. */
  private measureRest(update: IndexUpdate): number {
    const { layout } = this.ctx;
    const { main } = update;
    let bytes = (main.commits?.bytes ?? 0) + main.strayKeyRefBytes + (main.packs?.overheadBytes ?? 0);
    for (const length of Object.values(main.packs?.doubled ?? {})) bytes += length;
    for (const bucket of Object.values(main.buckets)) bytes += bucket.bytes;
    for (const shard of Object.values(main.shards)) bytes += shard.objectBytes;
    const covered = (dir: string, name: string): boolean =>
      (dir === layout.objects && (main.shards[name] !== undefined || (name === 'pack' && main.packs !== null))) ||
      // The ref checks are a cache of as many files as keys read, left out like the index's own.
      [layout.keyRefs, layout.commits, this.directory, layout.refChecks].includes(join(dir, name));
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
}

function mtimeOf(fs: StoreFs, path: string): number {
  const stats = fs.lstatSync(path);
  return stats?.isDirectory() ? stats.mtimeMs : -1;
}

function listSync(fs: StoreFs, dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * `objects/pack/` for one refresh: whether it changed since the index last
 * read it, and its packs' object sizes, read (every index) only when needed.
 */
/** The bytes of `objects/pack/`'s files beyond the stored bytes of the objects its packs hold (each once). */
function packOverhead(packed: PackedSizes): number {
  let bytes = packed.fileBytes;
  for (const length of packed.sizes.values()) bytes -= length;
  return bytes;
}

class PackedObjects {
  readonly mtimeMs: number;
  readonly exist: boolean;
  readonly changed: boolean;
  private sizes: PackedSizes | null = null;
  private grouped: Map<string, Array<[string, number]>> | null = null;

  constructor(
    private readonly fs: StoreFs,
    private readonly layout: StoreContext['layout'],
    recorded: StatsIndexMain['packs'],
  ) {
    this.mtimeMs = mtimeOf(fs, join(layout.objects, 'pack'));
    this.exist = this.mtimeMs !== -1;
    this.changed = this.exist ? !isTrusted(recorded?.mtimeMs, this.mtimeMs) : recorded !== null;
  }

  read(): PackedSizes {
    this.sizes ??= readPackedSizesSync(this.fs, this.layout);
    return this.sizes;
  }

  fanouts(): string[] {
    return [...this.byFanout().keys()];
  }

  inFanout(fanout: string): Array<[string, number]> {
    return this.byFanout().get(fanout) ?? [];
  }

  private byFanout(): Map<string, Array<[string, number]>> {
    if (this.grouped === null) {
      this.grouped = new Map();
      for (const entry of this.read().sizes) {
        const fanout = entry[0].slice(0, 2);
        const list = this.grouped.get(fanout);
        if (list === undefined) this.grouped.set(fanout, [entry]);
        else list.push(entry);
      }
    }
    return this.grouped;
  }
}
