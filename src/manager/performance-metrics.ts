/**
 * Performance metrics with the reference's fields: serialisations of user
 * data (count, time, bytes, cache hits) when `enablePerformanceMetrics` is
 * set, and, always, the commits written (`persistedWrites`) and the calls
 * that had nothing new to publish (`skippedPersistWrites`).
 */
// Timings use the global `performance`, not node:perf_hooks: the global
// loads its eleven internal modules on first use (when metrics are on), an
// import of node:perf_hooks at every start of the CLI.
import { serialize } from '../model/codec.js';
import type { ResolvedOptions } from '../model/options.js';

export interface SerializationSample {
  /** What was serialised: `saveSSOT`, `persistFailureArtifact` or `createSnapshot` (a snapshot's tree). */
  context: string;
  durationMs: number;
  /** Serialised bytes. */
  size: number;
  cacheHit: boolean;
  timestamp: string;
}

export interface PerformanceMetrics {
  stringifyCalls: number;
  stringifyDurationMs: number;
  stringifyMaxDurationMs: number;
  /** stringifyDurationMs / stringifyCalls, rounded to 3 decimals; 0 before the first call. */
  averageDurationMs: number;
  lastPayloadSize: number;
  stringifyCacheHits: number;
  stringifyCacheMisses: number;
  persistedWrites: number;
  skippedPersistWrites: number;
  /** The last `performanceSampleSize` serialisations, oldest first. */
  samples: SerializationSample[];
}

type Counters = Omit<PerformanceMetrics, 'averageDurationMs' | 'samples'>;

function zeroCounters(): Counters {
  return {
    stringifyCalls: 0,
    stringifyDurationMs: 0,
    stringifyMaxDurationMs: 0,
    lastPayloadSize: 0,
    stringifyCacheHits: 0,
    stringifyCacheMisses: 0,
    persistedWrites: 0,
    skippedPersistWrites: 0,
  };
}

export class PerformanceRecorder {
  private counters = zeroCounters();
  private samples: SerializationSample[] = [];
  private cache = new WeakMap<object, Buffer>();

  constructor(private readonly options: ResolvedOptions) {}

  /**
   * Serialises user data (see src/model/codec.ts), timing it when metrics are
   * enabled. With `enableSerializationCache`, a deeply frozen object saved
   * again reuses its serialised bytes: only a frozen object is certain not to
   * have changed since, so mutable objects are always serialised afresh.
   */
  serialize(value: unknown, context: string): Buffer {
    const cacheable = this.options.enableSerializationCache && isDeeplyFrozen(value);
    const cached = cacheable ? this.cache.get(value as object) : undefined;
    if (cached !== undefined) {
      this.record(context, 0, cached.length, true);
      return cached;
    }
    const started = this.options.enablePerformanceMetrics ? performance.now() : 0;
    const bytes = serialize(value);
    if (cacheable) this.cache.set(value as object, bytes);
    if (this.options.enablePerformanceMetrics) this.record(context, performance.now() - started, bytes.length, false);
    return bytes;
  }

  countPersisted(): void {
    this.counters.persistedWrites++;
  }

  countSkipped(): void {
    this.counters.skippedPersistWrites++;
  }

  read(): PerformanceMetrics {
    const { stringifyCalls, stringifyDurationMs } = this.counters;
    const average = stringifyCalls === 0 ? 0 : Number((stringifyDurationMs / stringifyCalls).toFixed(3));
    return { ...this.counters, averageDurationMs: average, samples: this.samples.map((s) => ({ ...s })) };
  }

  reset(): void {
    this.counters = zeroCounters();
    this.samples = [];
    this.cache = new WeakMap();
  }

  private record(context: string, durationMs: number, size: number, cacheHit: boolean): void {
    if (!this.options.enablePerformanceMetrics) return;
    const c = this.counters;
    c.stringifyCalls++;
    c.stringifyDurationMs += durationMs;
    c.stringifyMaxDurationMs = Math.max(c.stringifyMaxDurationMs, durationMs);
    c.lastPayloadSize = size;
    if (this.options.enableSerializationCache) {
      if (cacheHit) c.stringifyCacheHits++;
      else c.stringifyCacheMisses++;
    }
    this.samples.push({ context, durationMs: Number(durationMs.toFixed(3)), size, cacheHit, timestamp: new Date().toISOString() });
    if (this.samples.length > this.options.performanceSampleSize) this.samples.shift();
  }
}

/**
 * Whether an object and every object it reaches is frozen and holds only
 * data members; false for scalars (nothing to cache). Freezing does not fix
 * what a getter returns, nor the time inside a Date (`setTime` still works)
 * or the bytes of binary values, so those are never cached.
 */
function isDeeplyFrozen(root: unknown): boolean {
  if (root === null || typeof root !== 'object') return false;
  const seen = new Set<object>();
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    if (!Array.isArray(node) && !isPlainObject(node)) return false;
    if (!Object.isFrozen(node)) return false;
    for (const member of Object.values(Object.getOwnPropertyDescriptors(node))) {
      if (!('value' in member)) return false;
      const child: unknown = member.value;
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return true;
}

function isPlainObject(node: object): boolean {
  const proto = Object.getPrototypeOf(node);
  return proto === Object.prototype || proto === null;
}

/**
 * A call reached the commit step with nothing new to publish, so no commit is
 * written (a commit always holds a version): counted and reported as
 * `persistenceSkipped` under `skipUnchangedPersistence`.
 */
export function reportNothingToPublish(
  ctx: { options: ResolvedOptions; metrics: PerformanceRecorder; events: { emit(event: string, payload: unknown): boolean } },
  details: Record<string, unknown>,
): void {
  if (!ctx.options.skipUnchangedPersistence) return;
  ctx.metrics.countSkipped();
  ctx.events.emit('persistenceSkipped', { reason: 'unchanged', ...details });
}
