/**
 * Failure artifacts: each one is saved as the next version of the logical key
 * `failure_<phase>` through the normal save path (so failures are versioned,
 * listed, diffed and retained like any state), then announced to in-process
 * listeners and to the `failure` / `failure-<type>` hook scripts.
 */
import { InvalidArgumentError, InvalidArtifactError, InvalidDataError } from '../errors.js';
import {
  assertFailureArtifact,
  FAILURE_KEY_PREFIX,
  FAILURE_SEVERITIES,
  FAILURE_SOURCE,
  FAILURE_TYPES,
  failureKeyOf,
  failureTags,
  fromFailureDocument,
  isFailureDocument,
  toFailureDocument,
  type FailureDocument,
} from '../model/failures.js';
import { deserialize } from '../model/codec.js';
import type { FailureArtifact, FailureSeverity, FailureType } from '../model/types.js';
import { readdirIfExists } from '../store/fs.js';
import type { CommittedVersion } from '../store/version-index.js';
import type { HookDispatcher } from '../hooks/dispatcher.js';
import type { StoreContext } from './context.js';
import { commitStaged, stageSave } from './versions.js';
import { join } from 'node:path';

/** Filters of `listFailures`; every given field must match. */
export interface FailureFilter {
  phase?: string;
  type?: FailureType;
  severity?: FailureSeverity;
  retryable?: boolean;
  /** ISO time: only failures whose artifact `timestamp` is at or after it. */
  since?: string;
}

/** A stored failure artifact. */
export interface StoredFailure {
  /** Full key of the version that holds it, `failure_<phase>_<timestamp>`. */
  key: string;
  logicalKey: string;
  version: number;
  /** When the store saved it (the version's timestamp). */
  storedAt: string;
  /** The artifact, with its `error` rebuilt as an `Error`. */
  artifact: FailureArtifact;
  /** The artifact exactly as stored (the error as plain data), as hooks receive it. */
  document: FailureDocument;
}

/**
 * Validates and stores a failure artifact, emits `failureArtifactPersisted`,
 * `failure_<type>` and `failure_<phase>`, and queues the failure hooks. It
 * commits on its own even inside an open transaction, so a rollback never
 * loses the record of a failure. Resolves to the full key.
 */
export async function persistFailure(ctx: StoreContext, hooks: HookDispatcher, artifact: FailureArtifact): Promise<string> {
  assertFailureArtifact(artifact);
  const logicalKey = failureKeyOf(artifact.phase);
  const document = toFailureDocument(artifact);
  const staged = await stageSave(ctx, logicalKey, document, { phase: artifact.phase, tags: failureTags(artifact), source: FAILURE_SOURCE }, 'persistFailureArtifact').catch(
    (error: unknown) => {
      // Everything else in the document is plain data by construction: only the caller's context can be unstorable.
      throw error instanceof InvalidDataError ? new InvalidArtifactError('context', error.message) : error;
    },
  );
  const published = await commitStaged(ctx, [staged], { message: `save ${logicalKey}`, transaction: null }, [document]);
  const record = published.records[0]!;
  ctx.events.emit('failureArtifactPersisted', { artifact, key: record.fullKey, timestamp: new Date(ctx.clock()).toISOString(), cegis_trigger: true });
  ctx.events.emit(`failure_${artifact.type}`, artifact);
  ctx.events.emit(`failure_${artifact.phase}`, artifact);
  const stored = deserialize(await ctx.objects.read(record.checksum, record.fullKey));
  void hooks.dispatch({
    event: 'failure',
    hooks: ['failure', `failure-${artifact.type}`],
    payload: { key: record.fullKey, logicalKey, version: record.version, artifact: stored },
    env: { AE_KEY: record.fullKey, AE_PHASE: artifact.phase, AE_FAILURE_TYPE: artifact.type, AE_SEVERITY: artifact.severity },
  });
  // Waits for the post-commit hook of the save as well: everything queued so far.
  if (ctx.options.awaitHooks) await hooks.idle();
  return record.fullKey;
}

/** Stored failures matching `filter`, newest first. */
export async function listFailures(ctx: StoreContext, filter: FailureFilter = {}): Promise<StoredFailure[]> {
  checkFilter(filter);
  const keys = filter.phase !== undefined ? [failureKeyOf(filter.phase)] : await listFailureKeys(ctx);
  const found: StoredFailure[] = [];
  for (const logicalKey of keys) {
    const { versions } = await ctx.index.list(logicalKey);
    for (const version of versions) {
      if (!tagsMatch(version, filter)) continue;
      const failure = await readFailure(ctx, version);
      if (failure === null) continue;
      if (filter.since !== undefined && !(Date.parse(failure.document.timestamp) >= Date.parse(filter.since))) continue;
      found.push(failure);
    }
  }
  return found.sort((a, b) => (a.storedAt < b.storedAt ? 1 : a.storedAt > b.storedAt ? -1 : a.key < b.key ? 1 : -1));
}

/**
 * Logical keys of failures. Key directories keep `failure_` as it is (lower
 * case letters and `_` are never escaped), so only directories with that
 * prefix can hold failures; the logical key itself is read from a record,
 * never decoded from the directory name.
 */
async function listFailureKeys(ctx: StoreContext): Promise<string[]> {
  const keys: string[] = [];
  for (const dir of await ctx.refs.listKeyDirs()) {
    if (!dir.startsWith(FAILURE_KEY_PREFIX)) continue;
    const dirPath = join(ctx.layout.keyRefs, dir);
    for (const name of (await readdirIfExists(ctx.fs, dirPath)).sort()) {
      if (!name.endsWith('.json')) continue;
      const record = await ctx.refs.readIfExists(join(dirPath, name));
      if (record === null) continue; // removed by retention in another process meanwhile
      if (record.logicalKey.startsWith(FAILURE_KEY_PREFIX)) keys.push(record.logicalKey);
      break;
    }
  }
  return keys;
}

function tagsMatch({ record }: CommittedVersion, filter: FailureFilter): boolean {
  // Versions written before the reference's tags were adopted carry the failure type under `type`.
  const failureType = record.tags.failureType ?? record.tags.type;
  if (filter.type !== undefined && failureType !== filter.type) return false;
  if (filter.severity !== undefined && record.tags.severity !== filter.severity) return false;
  if (filter.retryable !== undefined && record.tags.retryable !== String(filter.retryable)) return false;
  return true;
}

/** The failure a version holds; null for data under a `failure_` key that is not a failure document. */
async function readFailure(ctx: StoreContext, { record, version }: CommittedVersion): Promise<StoredFailure | null> {
  const data = deserialize(await ctx.objects.read(record.checksum, record.fullKey));
  if (!isFailureDocument(data)) return null;
  return {
    key: record.fullKey,
    logicalKey: record.logicalKey,
    version,
    storedAt: record.timestamp,
    artifact: fromFailureDocument(data),
    document: data,
  };
}

function checkFilter(filter: FailureFilter): void {
  if (filter === null || typeof filter !== 'object') throw new InvalidArgumentError('failure filter must be an object');
  const { phase, type, severity, retryable, since } = filter;
  if (phase !== undefined && (typeof phase !== 'string' || phase.length === 0)) throw new InvalidArgumentError('phase must be a non-empty string', { phase });
  if (type !== undefined && !FAILURE_TYPES.includes(type)) {
    throw new InvalidArgumentError(`type must be one of ${FAILURE_TYPES.join(', ')}`, { type });
  }
  if (severity !== undefined && !FAILURE_SEVERITIES.includes(severity)) {
    throw new InvalidArgumentError(`severity must be one of ${FAILURE_SEVERITIES.join(', ')}`, { severity });
  }
  if (retryable !== undefined && typeof retryable !== 'boolean') throw new InvalidArgumentError('retryable must be true or false', { retryable });
  if (since !== undefined && (typeof since !== 'string' || Number.isNaN(Date.parse(since)))) {
    throw new InvalidArgumentError(`since must be an ISO date-time (got ${JSON.stringify(since)})`, { since });
  }
}
