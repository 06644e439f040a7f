/**
 * A small in-memory model of one store: the versions of each logical key,
 * the snapshots, and the documented rules that change them (publishing,
 * `maxVersions`, garbage collection, snapshot selection, snapshot import).
 * Written from README and docs/FORMAT.md, not from the implementation, so a
 * disagreement with the real store is a bug in one of the two.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_TTL_SECONDS = 10;
export const MAX_VERSIONS = 3;

export interface ModelVersion {
  logicalKey: string;
  timestamp: string;
  fullKey: string;
  version: number;
  checksum: string;
  data: unknown;
  ttl?: number;
  phase?: string;
  /** ms since the epoch, as recorded when the save was staged. */
  created: number;
}

export interface ModelSnapshot {
  snapshotId: string;
  phase: string;
  /** The versions as the snapshot's tree names them, by full key. */
  entries: Map<string, ModelVersion>;
}

/** A save on its way to a commit: what `stageSave` recorded. */
export interface ModelStaged {
  logicalKey: string;
  data: unknown;
  ttl?: number;
  phase?: string;
  created: number;
  /** The proposed timestamp (now at staging) and, for imports, the number to keep. */
  timestamp: string;
  version?: number;
}

export function checksumOf(data: unknown): string {
  return createHash('sha256').update(JSON.stringify(data), 'utf8').digest('hex');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A key's next timestamp: now, or 1 ms after its newest when the clock has not moved past it. */
function nextTimestamp(previous: string | undefined, nowMs: number): string {
  return iso(previous === undefined ? nowMs : Math.max(nowMs, Date.parse(previous) + 1));
}

export class StoreModel {
  readonly keys = new Map<string, ModelVersion[]>();
  readonly snapshots = new Map<string, ModelSnapshot>();

  /** Visible versions of a key, oldest first. */
  versionsOf(logicalKey: string): ModelVersion[] {
    return this.keys.get(logicalKey) ?? [];
  }

  latest(logicalKey: string): ModelVersion | undefined {
    return this.versionsOf(logicalKey).at(-1);
  }

  /**
   * Publishes staged saves as one commit: a save newer than its key's newest
   * keeps its timestamp and gets `max(newest + 1, kept number)`; any other
   * gets the next timestamp and `newest + 1`; then, unless
   * it is an import, only the newest `maxVersions` of each touched key stay.
   */
  publish(staged: readonly ModelStaged[], nowMs: number, options: { enforceMaxVersions: boolean }): ModelVersion[] {
    const published: ModelVersion[] = [];
    for (const save of staged) {
      const list = [...this.versionsOf(save.logicalKey)];
      const previous = list.at(-1);
      const isNewer = previous === undefined || save.timestamp > previous.timestamp;
      const timestamp = isNewer ? save.timestamp : nextTimestamp(previous.timestamp, nowMs);
      const version: ModelVersion = {
        logicalKey: save.logicalKey,
        timestamp,
        fullKey: `${save.logicalKey}_${timestamp}`,
        version: isNewer ? Math.max((previous?.version ?? 0) + 1, save.version ?? 0) : previous.version + 1,
        checksum: checksumOf(save.data),
        data: save.data,
        created: save.created,
      };
      if (save.ttl !== undefined) version.ttl = save.ttl;
      if (save.phase !== undefined) version.phase = save.phase;
      list.push(version);
      this.keys.set(save.logicalKey, list);
      published.push(version);
    }
    if (options.enforceMaxVersions) {
      for (const key of new Set(staged.map((s) => s.logicalKey))) {
        const list = this.versionsOf(key);
        if (list.length > MAX_VERSIONS) this.keys.set(key, list.slice(list.length - MAX_VERSIONS));
      }
    }
    return published;
  }

  /**
   * Garbage collection: a version whose `created + (ttl ?? defaultTTL)` has
   * passed goes, unless a snapshot names it or it is its key's newest and
   * has no `ttl` of its own.
   */
  collectGarbage(nowMs: number): number {
    const pinned = new Set<string>();
    for (const snapshot of this.snapshots.values()) for (const fullKey of snapshot.entries.keys()) pinned.add(fullKey);
    let expired = 0;
    for (const [key, list] of this.keys) {
      const kept = list.filter((v, index) => {
        const isExpired = v.created + (v.ttl ?? DEFAULT_TTL_SECONDS) * 1000 <= nowMs;
        if (!isExpired || pinned.has(v.fullKey)) return true;
        if (index === list.length - 1 && v.ttl === undefined) return true;
        expired++;
        return false;
      });
      if (kept.length === 0) this.keys.delete(key);
      else this.keys.set(key, kept);
    }
    return expired;
  }

  /** The id a snapshot of `phase` taken now gets (the next free millisecond). */
  nextSnapshotId(phase: string, nowMs: number): string {
    let ms = nowMs;
    while (this.snapshots.has(`snapshot_${phase}_${iso(ms)}`)) ms++;
    return `snapshot_${phase}_${iso(ms)}`;
  }

  /** Snapshots the newest version of every key whose newest version has `phase`. */
  createSnapshot(phase: string, nowMs: number): ModelSnapshot {
    const snapshotId = this.nextSnapshotId(phase, nowMs);
    const entries = new Map<string, ModelVersion>();
    for (const list of this.keys.values()) {
      const newest = list.at(-1);
      if (newest?.phase === phase) entries.set(newest.fullKey, { ...newest });
    }
    const snapshot = { snapshotId, phase, entries };
    this.snapshots.set(snapshotId, snapshot);
    return snapshot;
  }

  /**
   * Imports an archive of `snapshot`: a no-op when the store has the tag with
   * the same data per key, an error when it has it with other data; else
   * each version the store has (same full key and checksum) is "already
   * present", each other one not newer than its key's newest version is
   * skipped as older (the tag still names it as archived), the rest are
   * published in one commit, and the tag names the result.
   */
  importSnapshot(snapshot: ModelSnapshot, nowMs: number): { published: number; present: number; older: number } | 'conflict' {
    const archived = [...snapshot.entries.values()];
    const existing = this.snapshots.get(snapshot.snapshotId);
    if (existing !== undefined) {
      const have = new Set([...existing.entries.values()].map((e) => `${e.logicalKey}\u0000${e.checksum}`));
      const same = existing.entries.size === archived.length && archived.every((e) => have.has(`${e.logicalKey}\u0000${e.checksum}`));
      return same ? { published: 0, present: archived.length, older: 0 } : 'conflict';
    }
    const sorted = archived.sort((a, b) => cmp(a.logicalKey, b.logicalKey) || cmp(a.timestamp, b.timestamp));
    const newest = new Map(sorted.map((e) => [e.logicalKey, this.latest(e.logicalKey)?.timestamp]));
    const found = sorted.map((e) => this.versionsOf(e.logicalKey).find((v) => v.fullKey === e.fullKey && v.checksum === e.checksum));
    const isOlder = sorted.map((e, i) => found[i] === undefined && newest.get(e.logicalKey) !== undefined && !(e.timestamp > newest.get(e.logicalKey)!));
    const fresh = sorted.filter((_, i) => found[i] === undefined && !isOlder[i]);
    const published = this.publish(
      fresh.map((e) => ({ logicalKey: e.logicalKey, data: e.data, ttl: e.ttl, phase: e.phase, created: e.created, timestamp: e.timestamp, version: e.version })),
      nowMs,
      { enforceMaxVersions: false },
    );
    let next = 0;
    const entries = new Map<string, ModelVersion>();
    sorted.forEach((archivedVersion, i) => {
      const record = isOlder[i] ? archivedVersion : (found[i] ?? published[next++]!);
      entries.set(record.fullKey, { ...record });
    });
    this.snapshots.set(snapshot.snapshotId, { snapshotId: snapshot.snapshotId, phase: snapshot.phase, entries });
    const older = isOlder.filter(Boolean).length;
    return { published: fresh.length, present: sorted.length - fresh.length - older, older };
  }
}

/**
 * Imports a JSON backup of `versions`: per key in timestamp order, a version
 * with the same full key and checksum is already present, one not newer
 * than its key's newest is skipped as older, the rest are published in one
 * commit with their timestamps (and numbers when above the newest).
 */
export function importBackup(store: StoreModel, versions: readonly ModelVersion[], nowMs: number): { published: number; present: number; older: number } {
  const sorted = [...versions].sort((a, b) => cmp(a.logicalKey, b.logicalKey) || cmp(a.timestamp, b.timestamp));
  const newest = new Map(sorted.map((v) => [v.logicalKey, store.latest(v.logicalKey)?.timestamp]));
  let present = 0;
  let older = 0;
  const fresh = sorted.filter((v) => {
    if (store.versionsOf(v.logicalKey).some((s) => s.fullKey === v.fullKey && s.checksum === v.checksum)) return (present++, false);
    const latest = newest.get(v.logicalKey);
    if (latest !== undefined && !(v.timestamp > latest)) return (older++, false);
    return true;
  });
  store.publish(
    fresh.map((v) => ({ logicalKey: v.logicalKey, data: v.data, ttl: v.ttl, phase: v.phase, created: v.created, timestamp: v.timestamp, version: v.version })),
    nowMs,
    { enforceMaxVersions: false },
  );
  return { published: fresh.length, present, older };
}

/** Whether merging `from` into `into` would put two versions of one key at one timestamp (their order is then the store's choice). */
export function mergeHasTies(into: StoreModel, from: StoreModel): boolean {
  for (const [key, list] of from.keys) {
    const times = new Set(into.versionsOf(key).map((v) => v.timestamp));
    if (list.some((v) => times.has(v.timestamp))) return true;
  }
  return false;
}

/**
 * Merges the version files of `from` into `into`, as `git merge` of two
 * clones does: per key, the union in timestamp order, numbered
 * `max(number, previous + 1)`. Snapshots are not merged.
 */
export function mergeStores(into: StoreModel, from: StoreModel): void {
  for (const [key, list] of from.keys) {
    const union = [...into.versionsOf(key), ...list.map((v) => ({ ...v }))].sort((a, b) => cmp(a.timestamp, b.timestamp));
    let previous = 0;
    for (const version of union) previous = version.version = Math.max(version.version, previous + 1);
    into.keys.set(key, union);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
