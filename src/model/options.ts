/**
 * `StorageOptions`: the reference's fields with its defaults, plus the
 * options this store adds. All times are in seconds, as in the reference.
 */
import { InvalidOptionError } from '../errors.js';

export interface StorageOptions {
  /** Location of the older single-file JSON database, migrated on first open. Default `.ae/enhanced-state.db`. */
  databasePath?: string;
  /** Gzip objects whose serialised size is above `compressionThreshold`. Default true. */
  enableCompression?: boolean;
  /** Bytes. Default 1024. */
  compressionThreshold?: number;
  /** Seconds a version lives when saved without its own `ttl`; 0 means such versions never expire. Default 604800 (7 days). */
  defaultTTL?: number;
  /** Seconds between automatic garbage collections while a manager is open; 0 turns the timer off. At most 2147483.647 (Node's timer limit). Default 3600. */
  gcInterval?: number;
  /** Newest versions kept per logical key. Default 10. */
  maxVersions?: number;
  /** Default true. When false, `beginTransaction` throws and every save commits on its own. */
  enableTransactions?: boolean;
  /** The store directory, relative to the project root. Default `.ae`. */
  storePath?: string;
  /** Seconds to wait for another process's store lock before failing. Default 30. */
  lockTimeout?: number;
  /** Seconds a hook script may run before it is killed. At most 2147483.647 (Node's timer limit). Default 60. */
  hookTimeout?: number;
  /** Whether calls that trigger hook scripts wait for them. Default false for the API (true in the CLI). */
  awaitHooks?: boolean;
  /** Record the project's git commit and branch with each version. Default true. */
  recordGitProvenance?: boolean;
  /** Time each serialisation of user data and record it in `getPerformanceMetrics()`. Default false. */
  enablePerformanceMetrics?: boolean;
  /**
   * Reuse the serialised form of a document object saved again, when that
   * object is deeply frozen plain data, without getters, Dates or binary
   * values (anything that could have changed since would be stored stale).
   * Default false.
   */
  enableSerializationCache?: boolean;
  /** Most recent serialisations kept in `getPerformanceMetrics().samples`; 0 keeps none (they are still counted). Default 20. */
  performanceSampleSize?: number;
  /**
   * Write nothing for a call that would publish nothing new (a transaction
   * with no saves, an import whose versions are all stored already) and count
   * it in `skippedPersistWrites`; when false such calls still write nothing
   * (a commit always holds at least one version) but are not counted and
   * emit no `persistenceSkipped`. Never drops a save. Default true.
   */
  skipUnchangedPersistence?: boolean;
}

export type ResolvedOptions = Required<StorageOptions>;

export const DEFAULT_OPTIONS: ResolvedOptions = Object.freeze({
  databasePath: '.ae/enhanced-state.db',
  enableCompression: true,
  compressionThreshold: 1024,
  defaultTTL: 604800,
  gcInterval: 3600,
  maxVersions: 10,
  enableTransactions: true,
  storePath: '.ae',
  lockTimeout: 30,
  hookTimeout: 60,
  awaitHooks: false,
  recordGitProvenance: true,
  enablePerformanceMetrics: false,
  enableSerializationCache: false,
  performanceSampleSize: 20,
  skipUnchangedPersistence: true,
});

type Rule = (value: unknown) => string | null;

const nonEmptyString: Rule = (v) => (typeof v === 'string' && v.length > 0 && !v.includes('\u0000') ? null : 'must be a non-empty string');
const boolean: Rule = (v) => (typeof v === 'boolean' ? null : 'must be true or false');
const nonNegative: Rule = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? null : 'must be a finite number >= 0');
const positive: Rule = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'must be a finite number > 0');
/** The longest delay Node's timers accept: 2^31 - 1 ms. A longer one fires after 1 ms instead. */
export const MAX_TIMER_SECONDS = (2 ** 31 - 1) / 1000;
const timerSeconds = (base: Rule): Rule => (v) => base(v) ?? ((v as number) <= MAX_TIMER_SECONDS ? null : `must be at most ${MAX_TIMER_SECONDS} seconds, the longest delay Node's timers accept`);
const positiveInteger: Rule = (v) => (Number.isSafeInteger(v) && (v as number) >= 1 ? null : 'must be an integer >= 1');
const nonNegativeInteger: Rule = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : 'must be an integer >= 0');

const RULES: Record<keyof StorageOptions, Rule> = {
  databasePath: nonEmptyString,
  enableCompression: boolean,
  compressionThreshold: nonNegative,
  defaultTTL: nonNegative,
  gcInterval: timerSeconds(nonNegative),
  maxVersions: positiveInteger,
  enableTransactions: boolean,
  storePath: nonEmptyString,
  lockTimeout: positive,
  hookTimeout: timerSeconds(positive),
  awaitHooks: boolean,
  recordGitProvenance: boolean,
  enablePerformanceMetrics: boolean,
  enableSerializationCache: boolean,
  performanceSampleSize: nonNegativeInteger,
  skipUnchangedPersistence: boolean,
};

/** Fills defaults and throws `InvalidOptionError` for unknown fields and bad values. */
export function resolveOptions(options: StorageOptions | undefined): ResolvedOptions {
  if (options === undefined) return { ...DEFAULT_OPTIONS };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError('options', 'must be an object', options);
  }
  const resolved: Record<string, unknown> = { ...DEFAULT_OPTIONS };
  for (const [name, value] of Object.entries(options)) {
    if (!Object.hasOwn(RULES, name)) throw new InvalidOptionError(name, 'is not a known option', value);
    if (value === undefined) continue;
    const problem = RULES[name as keyof StorageOptions](value);
    if (problem) throw new InvalidOptionError(name, problem, value);
    resolved[name] = value;
  }
  return resolved as ResolvedOptions;
}
