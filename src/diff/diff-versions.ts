/**
 * Comparing two versions of a logical key, from the store on disk or as
 * committed at git revisions. Documents are compared in their stored JSON
 * form (the serialised bytes, parsed): for plain JSON data that is the data
 * itself; byte arrays and dates appear as their tagged objects.
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { StoreContext } from '../manager/context.js';
import { findVersionIn, openVersionSource, type VersionSelector, type VersionSource } from '../manager/revisions.js';
import type { CommittedVersion } from '../store/version-index.js';
import { diffDocuments, type DocumentDiff } from './diff-documents.js';

/** One side of a diff. */
export interface DiffSide {
  version: number;
  /** The full key `<logicalKey>_<timestamp>`. */
  key: string;
  checksum: string;
  /** The git revision it was read at, when not from the store on disk. */
  at?: string;
  /** The git commit that revision resolved to. */
  gitCommit?: string;
}

export interface VersionDiff extends DocumentDiff {
  key: string;
  from: DiffSide;
  to: DiffSide;
}

interface Side {
  source: VersionSource;
  found: CommittedVersion;
}

/**
 * Compares `from` with `to`. Each is a version number, a full key, or
 * `{version, at}`; `to` defaults to the newest version, `from` to the one
 * before `to` in the same place. A side that does not exist is a `NotFoundError`.
 */
export async function diffVersions(ctx: StoreContext, logicalKey: string, from?: VersionSelector, to?: VersionSelector): Promise<VersionDiff> {
  const toSelector = normalise(to, 'to');
  const fromSelector = from === undefined ? undefined : normalise(from, 'from');
  const toSide = await resolveSide(ctx, logicalKey, toSelector, new Map());
  const fromSide =
    fromSelector === undefined
      ? await predecessorOf(logicalKey, toSide)
      : await resolveSide(ctx, logicalKey, fromSelector, new Map([[toSide.source.at, toSide.source]]));
  const result: VersionDiff = {
    key: logicalKey,
    from: describeSide(fromSide),
    to: describeSide(toSide),
    ...(await compareSides(fromSide, toSide)),
  };
  return result;
}

async function compareSides(a: Side, b: Side): Promise<DocumentDiff> {
  if (a.found.record.checksum === b.found.record.checksum) {
    return { equal: true, patch: [], summary: { added: [], removed: [], changed: [] }, changes: [] };
  }
  const [left, right] = await Promise.all([readJson(a), readJson(b)]);
  return diffDocuments(left, right);
}

async function readJson({ source, found }: Side): Promise<unknown> {
  const bytes = await source.readObject(found.record.checksum, found.record.fullKey);
  return JSON.parse(bytes.toString('utf8'));
}

type Selector = { version?: number | string; at?: string };

function normalise(selector: VersionSelector | undefined, side: string): Selector {
  if (selector === undefined) return {};
  if (typeof selector === 'number' || typeof selector === 'string') return { version: selector };
  if (selector === null || typeof selector !== 'object') throw new InvalidArgumentError(`${side} must be a version number, a full key or {version, at}`);
  return selector;
}

async function resolveSide(ctx: StoreContext, logicalKey: string, selector: Selector, opened: Map<string | null, VersionSource>): Promise<Side> {
  const at = selector.at ?? null;
  const source = opened.get(at) ?? (await openVersionSource(ctx, selector.at));
  const found = await findVersionIn(source, logicalKey, selector.version);
  if (found === null) throw missing(logicalKey, selector.version, at);
  return { source, found };
}

async function predecessorOf(logicalKey: string, side: Side): Promise<Side> {
  const { versions } = await side.source.index.list(logicalKey);
  const index = versions.findIndex((v) => v.path === side.found.path);
  const previous = index > 0 ? versions[index - 1] : undefined;
  if (previous === undefined) {
    throw new NotFoundError(`a version of ${JSON.stringify(logicalKey)} before version ${side.found.version}${where(side.source.at)}`, {
      key: logicalKey,
      version: side.found.version - 1,
    });
  }
  return { source: side.source, found: previous };
}

function describeSide({ source, found }: Side): DiffSide {
  const side: DiffSide = { version: found.version, key: found.record.fullKey, checksum: found.record.checksum };
  if (source.at !== null) side.at = source.at;
  if (source.gitCommit !== null) side.gitCommit = source.gitCommit;
  return side;
}

function missing(logicalKey: string, version: number | string | undefined, at: string | null): NotFoundError {
  const what = version === undefined ? `logical key ${JSON.stringify(logicalKey)}` : `version ${JSON.stringify(version)} of ${JSON.stringify(logicalKey)}`;
  return new NotFoundError(`${what}${where(at)}`, { key: logicalKey, version, at });
}

function where(at: string | null): string {
  return at === null ? '' : ` at git revision ${JSON.stringify(at)}`;
}
