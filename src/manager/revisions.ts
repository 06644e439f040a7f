/**
 * Where versions are read from: the store on disk, or the store as committed
 * at a revision of the project's git history (`{at: 'HEAD~1'}`). Both answer
 * through a `VersionIndex`, so visibility and version numbers follow one rule.
 */
import { InvalidArgumentError } from '../errors.js';
import { deserialize } from '../model/codec.js';
import { assertLogicalKey, parseFullKey } from '../model/keys.js';
import type { StateEntry, TransactionRef, VersionInfo } from '../model/types.js';
import type { CommittedVersion, VersionIndex } from '../store/version-index.js';
import type { StoreContext } from './context.js';
import { toStateEntry, toVersionInfo } from './versions.js';

/** Which version to load: a number (the newest when omitted), optionally as committed at a git revision. */
export interface LoadOptions {
  version?: number;
  /** A git revision of the project (branch, tag, commit id, `HEAD~N`): read the store as committed there. */
  at?: string;
  /**
   * Read as this open transaction sees the store: its staged saves are the
   * newest versions. Without it, calls in a transaction's async scope read
   * that way too. Not combined with `at`.
   */
  transactionId?: TransactionRef;
}

/** A version number, a full key, or the same with a git revision. */
export type VersionSelector = number | string | { version?: number | string; at?: string };

export interface VersionSource {
  index: Pick<VersionIndex, 'list'>;
  /** Verified serialised bytes of an object. */
  readObject(checksum: string, key?: string): Promise<Buffer>;
  /** The git revision read from, as given, or null for the store on disk. */
  at: string | null;
  /** The git commit id the revision resolved to, or null. */
  gitCommit: string | null;
}

/** The store on disk, or (with `at`) the store as committed at that git revision. */
export async function openVersionSource(ctx: StoreContext, at?: string): Promise<VersionSource> {
  if (at === undefined) {
    return { index: ctx.index, readObject: (checksum, key) => ctx.objects.read(checksum, key), at: null, gitCommit: null };
  }
  if (typeof at !== 'string' || at === '') throw new InvalidArgumentError('at must be a git revision such as "HEAD~1"', { at });
  // isomorphic-git is loaded only here: reading the past is the rare case.
  const { openStoreAtRevision } = await import('../git/store-at-revision.js');
  const store = await openStoreAtRevision(ctx.layout.root, ctx.layout.store, at);
  return { index: store.index, readObject: (checksum, key) => store.readObject(checksum, key), at, gitCommit: store.commit };
}

/** Normalises `loadSSOT(key, version)` and `loadSSOT(key, {version, at})`. */
export function toLoadOptions(versionOrOptions: number | LoadOptions | undefined): LoadOptions {
  if (versionOrOptions === undefined || typeof versionOrOptions === 'number') return { version: versionOrOptions };
  if (versionOrOptions === null || typeof versionOrOptions !== 'object') {
    throw new InvalidArgumentError('expected a version number or {version, at}', { value: String(versionOrOptions) });
  }
  return versionOrOptions;
}

/**
 * The version a selector names in a source: a version number, a full key
 * (`<logicalKey>_<timestamp>`), or the newest when `selector` is undefined.
 * Null when there is no such version.
 */
export async function findVersionIn(
  source: VersionSource,
  logicalKey: string,
  selector?: number | string,
): Promise<CommittedVersion | null> {
  assertLogicalKey(logicalKey);
  const { versions } = await source.index.list(logicalKey);
  if (selector === undefined) return versions.at(-1) ?? null;
  if (typeof selector === 'number') {
    if (!(Number.isSafeInteger(selector) && selector >= 1)) {
      throw new InvalidArgumentError(`version must be an integer >= 1 (got ${String(selector)})`, { version: selector });
    }
    return versions.find((v) => v.version === selector) ?? null;
  }
  const parsed = parseFullKey(selector);
  if (parsed === null || parsed.logicalKey !== logicalKey) {
    throw new InvalidArgumentError(`${JSON.stringify(selector)} is neither a version number nor a full key of ${JSON.stringify(logicalKey)}`, {
      key: logicalKey,
      version: selector,
    });
  }
  // After a git merge two versions may share a full key (one millisecond on
  // two machines); the later one in ref order, the higher-numbered, wins.
  const matching = versions.filter((v) => v.record.fullKey === selector);
  return matching.at(-1) ?? null;
}

export async function readEntryFrom(ctx: StoreContext, source: VersionSource, found: CommittedVersion): Promise<StateEntry> {
  const serialized = await source.readObject(found.record.checksum, found.record.fullKey);
  return toStateEntry(found.record, found.version, deserialize(serialized), ctx.options.defaultTTL);
}

/** `loadEntry` with a git revision. */
export async function loadEntryAt(ctx: StoreContext, logicalKey: string, options: LoadOptions): Promise<StateEntry | null> {
  const source = await openVersionSource(ctx, options.at);
  const found = await findVersionIn(source, logicalKey, options.version);
  return found === null ? null : readEntryFrom(ctx, source, found);
}

/** Versions of a key as committed at a git revision, newest first. */
export async function listVersionsAt(ctx: StoreContext, logicalKey: string, at: string): Promise<VersionInfo[]> {
  assertLogicalKey(logicalKey);
  const source = await openVersionSource(ctx, at);
  const { versions } = await source.index.list(logicalKey);
  return versions.map(({ version, record }) => toVersionInfo(record, version)).reverse();
}
