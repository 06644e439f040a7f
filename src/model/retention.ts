/**
 * Pure retention rules: which versions have outlived their time to live and
 * may be removed, and when an unreferenced file is old enough to sweep.
 * No I/O; `runGarbageCollection` (src/manager/retention.ts) acts on the
 * answers.
 */
import type { VersionRecord } from './records.js';

/** Seconds an unreferenced object or unpublished ref must have been left untouched before GC removes it. */
export const DEFAULT_GRACE_SECONDS = 300;

/**
 * When a version's time to live ends, in ms since the epoch: `created + (ttl ?? defaultTTL)`.
 * A time to live of 0 (the version's own, or the default) means it never ends.
 */
export function expiresAt(record: Pick<VersionRecord, 'created' | 'ttl'>, defaultTTL: number): number {
  const ttl = record.ttl ?? defaultTTL;
  return ttl === 0 ? Number.POSITIVE_INFINITY : Date.parse(record.created) + ttl * 1000;
}

export function isExpired(record: Pick<VersionRecord, 'created' | 'ttl'>, nowMs: number, defaultTTL: number): boolean {
  return expiresAt(record, defaultTTL) <= nowMs;
}

export interface ExpiryDecision<T> {
  expired: T[];
  /** Expired by time but kept because a snapshot names them. */
  keptBySnapshot: T[];
  /** Expired by the default TTL but kept because they are the key's current version. */
  keptAsNewest: T[];
}

/**
 * Decides which visible versions of one logical key GC removes.
 *
 * Safety rules, in order:
 *  - a version a live snapshot names (`pinned` holds its full key) is kept;
 *  - the newest version is kept unless it was saved with its own `ttl`, so
 *    the default TTL never silently deletes a key's current state;
 *  - any other version whose `created + ttl` has passed is removed.
 *
 * @param versions the key's visible versions, oldest first
 */
export function selectExpired<T extends { record: Pick<VersionRecord, 'created' | 'ttl' | 'fullKey'> }>(
  versions: readonly T[],
  nowMs: number,
  defaultTTL: number,
  pinned: ReadonlySet<string>,
): ExpiryDecision<T> {
  const decision: ExpiryDecision<T> = { expired: [], keptBySnapshot: [], keptAsNewest: [] };
  versions.forEach((version, index) => {
    if (!isExpired(version.record, nowMs, defaultTTL)) return;
    if (pinned.has(version.record.fullKey)) decision.keptBySnapshot.push(version);
    else if (index === versions.length - 1 && version.record.ttl === undefined) decision.keptAsNewest.push(version);
    else decision.expired.push(version);
  });
  return decision;
}

/** Whether a file last modified at `mtimeMs` is past the grace period. */
export function isPastGrace(mtimeMs: number, nowMs: number, graceSeconds: number): boolean {
  return graceSeconds === 0 || mtimeMs <= nowMs - graceSeconds * 1000;
}
