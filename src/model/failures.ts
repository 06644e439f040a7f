/**
 * Failure artifacts of a CEGIS loop: validation, the stored document, and the
 * way an `Error` (with its cause chain) becomes data and back. Pure functions.
 *
 * A failure is stored as an ordinary version of the logical key
 * `failure_<phase>`, so its document must survive the data codec: the Error is
 * turned into plain data (`SerializedError`) before saving and rebuilt on read.
 */
import { InvalidArtifactError } from '../errors.js';
import { assertLogicalKey } from './keys.js';
import type { FailureArtifact, FailureSeverity, FailureType } from './types.js';

export const FAILURE_TYPES: readonly FailureType[] = ['validation', 'compilation', 'test', 'verification', 'generation'];
export const FAILURE_SEVERITIES: readonly FailureSeverity[] = ['low', 'medium', 'high', 'critical'];
export const FAILURE_KEY_PREFIX = 'failure_';
export const FAILURE_SOURCE = 'failure_handler';

/** How deep a chain of `cause`s is followed; deeper causes are cut with a marker. */
const MAX_CAUSE_DEPTH = 16;
const MAX_ID_LENGTH = 500;

/** An `Error` as plain data. Own enumerable properties (such as `code`) are kept beside the standard ones. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  cause?: SerializedError | unknown;
  [property: string]: unknown;
}

/** The document stored as the data of a `failure_<phase>` version. */
export interface FailureDocument {
  id: string;
  timestamp: string;
  phase: string;
  type: FailureType;
  severity: FailureSeverity;
  retryable: boolean;
  error: SerializedError;
  context: Record<string, unknown>;
  artifacts: string[];
}

/** The logical key a failure of `phase` is stored under. */
export function failureKeyOf(phase: string): string {
  return `${FAILURE_KEY_PREFIX}${phase}`;
}

/**
 * Throws `InvalidArtifactError` naming the first field that breaks the
 * `FailureArtifact` contract. Runs before anything is written.
 */
export function assertFailureArtifact(artifact: unknown): asserts artifact is FailureArtifact {
  if (!isPlainObject(artifact)) throw new InvalidArtifactError('artifact', 'must be an object');
  const a = artifact as Record<string, unknown>;
  if (a.phase === undefined || a.phase === null || a.phase === '') throw new InvalidArtifactError('phase', 'is missing');
  if (typeof a.phase !== 'string' || a.phase.length > 200) throw new InvalidArtifactError('phase', 'must be a string of at most 200 characters');
  try {
    assertLogicalKey(failureKeyOf(a.phase));
  } catch (error) {
    throw new InvalidArtifactError('phase', `cannot be part of a logical key: ${(error as Error).message}`);
  }
  if (a.type === undefined || a.type === null || a.type === '') throw new InvalidArtifactError('type', 'is missing');
  if (!FAILURE_TYPES.includes(a.type as FailureType)) {
    throw new InvalidArtifactError('type', `must be one of ${FAILURE_TYPES.join(', ')} (got ${describe(a.type)})`);
  }
  if (!FAILURE_SEVERITIES.includes(a.severity as FailureSeverity)) {
    throw new InvalidArtifactError('severity', `must be one of ${FAILURE_SEVERITIES.join(', ')} (got ${describe(a.severity)})`);
  }
  if (typeof a.id !== 'string' || a.id.length === 0 || a.id.length > MAX_ID_LENGTH) {
    throw new InvalidArtifactError('id', `must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  if (!isIsoLike(a.timestamp)) throw new InvalidArtifactError('timestamp', 'must be an ISO 8601 date-time string');
  if (!isErrorLike(a.error)) throw new InvalidArtifactError('error', 'must be an Error (or an object with a string message)');
  if (!isPlainObject(a.context)) throw new InvalidArtifactError('context', 'must be a plain object');
  if (!Array.isArray(a.artifacts) || !a.artifacts.every((x) => typeof x === 'string')) {
    throw new InvalidArtifactError('artifacts', 'must be an array of strings');
  }
  if (typeof a.retryable !== 'boolean') throw new InvalidArtifactError('retryable', 'must be true or false');
}

/** The document stored for a (validated) artifact. */
export function toFailureDocument(artifact: FailureArtifact): FailureDocument {
  return {
    id: artifact.id,
    timestamp: artifact.timestamp,
    phase: artifact.phase,
    type: artifact.type,
    severity: artifact.severity,
    retryable: artifact.retryable,
    error: serializeError(artifact.error),
    context: artifact.context,
    artifacts: [...artifact.artifacts],
  };
}

/**
 * The tags a failure version carries, so listings filter without reading
 * data: the reference's (`type: 'failure'`, `phase`, `severity`,
 * `retryable`), plus the failure's own type and id under names of their own.
 */
export function failureTags(artifact: FailureArtifact): Record<string, string> {
  return {
    type: 'failure',
    phase: artifact.phase,
    severity: artifact.severity,
    retryable: String(artifact.retryable),
    failureType: artifact.type,
    failureId: artifact.id,
  };
}

/** Rebuilds an artifact, with a real `Error`, from its stored document. */
export function fromFailureDocument(doc: FailureDocument): FailureArtifact {
  return {
    id: doc.id,
    timestamp: doc.timestamp,
    phase: doc.phase,
    type: doc.type,
    severity: doc.severity,
    retryable: doc.retryable,
    error: deserializeError(doc.error),
    context: doc.context,
    artifacts: doc.artifacts,
  };
}

/** Whether stored data has the shape of a failure document (a foreign value under a `failure_` key does not). */
export function isFailureDocument(value: unknown): value is FailureDocument {
  if (!isPlainObject(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === 'string' && typeof v.phase === 'string' && typeof v.type === 'string' && isPlainObject(v.error);
}

/**
 * An error as plain data: name, message, stack, the `cause` chain (errors
 * recursively, other values as they are when they are JSON-safe, else as a
 * string), and own enumerable properties such as `code` or `errno`.
 */
export function serializeError(error: unknown, depth = 0, seen = new Set<unknown>()): SerializedError {
  if (!isErrorLike(error)) return { name: 'Error', message: String(error) };
  seen.add(error);
  const e = error as Error & Record<string, unknown>;
  const out: SerializedError = { name: typeof e.name === 'string' ? e.name : 'Error', message: String(e.message) };
  if (typeof e.stack === 'string') out.stack = e.stack;
  for (const [name, value] of Object.entries(e)) {
    if (name === 'name' || name === 'message' || name === 'stack' || name === 'cause') continue;
    out[name] = toPlainValue(value);
  }
  if ('cause' in e && e.cause !== undefined) out.cause = serializeCause(e.cause, depth + 1, seen);
  return out;
}

function serializeCause(cause: unknown, depth: number, seen: Set<unknown>): unknown {
  if (seen.has(cause)) return { name: 'Error', message: '[circular cause]' };
  if (depth > MAX_CAUSE_DEPTH) return { name: 'Error', message: '[cause chain cut]' };
  return isErrorLike(cause) ? serializeError(cause, depth, seen) : toPlainValue(cause);
}

/** Rebuilds an `Error` from `serializeError` output; the stack is the stored one. */
export function deserializeError(data: unknown): Error {
  if (!isPlainObject(data)) return new Error(String(data));
  const d = data as SerializedError;
  const cause = isPlainObject(d.cause) && typeof (d.cause as SerializedError).message === 'string' ? deserializeError(d.cause) : d.cause;
  const error = cause === undefined ? new Error(String(d.message)) : new Error(String(d.message), { cause });
  error.name = typeof d.name === 'string' ? d.name : 'Error';
  if (typeof d.stack === 'string') error.stack = d.stack;
  else delete error.stack;
  for (const [name, value] of Object.entries(d)) {
    if (name === 'name' || name === 'message' || name === 'stack' || name === 'cause') continue;
    (error as unknown as Record<string, unknown>)[name] = value;
  }
  return error;
}

/** Values that JSON carries as they are; anything else (functions, cycles, class instances) as a string. */
function toPlainValue(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return String(value);
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : JSON.parse(text);
  } catch {
    return String(value);
  }
}

function isErrorLike(value: unknown): boolean {
  return value instanceof Error || (isPlainObject(value) && typeof (value as { message?: unknown }).message === 'string');
}

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isIsoLike(value: unknown): boolean {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
}
