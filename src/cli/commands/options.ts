/** Option parsers shared by several commands. */
import { InvalidArgumentError } from 'commander';
import { describeKey, InvalidKeyError } from '../../errors.js';
import { assertSnapshotPhase } from '../../model/snapshot.js';

export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be an integer >= 1');
  return n;
}

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

/** A time to live in seconds: 0 means never expires, as in the API. */
export function parseTtlSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds >= 0 (0: never expires)');
  return n;
}

export function parseJsonObjectOfStrings(value: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('must be a JSON object, e.g. \'{"environment":"production"}\'');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object');
  for (const [name, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw new InvalidArgumentError(`tag ${JSON.stringify(name)} must be a string`);
  }
  return parsed as Record<string, string>;
}

/**
 * A phase as every command takes it: one that can also name a snapshot, so
 * `save -p` never stores a phase that `snapshot -p` would refuse.
 */
export function parsePhase(value: string): string {
  try {
    assertSnapshotPhase(value);
  } catch (error) {
    if (error instanceof InvalidKeyError) throw new InvalidArgumentError(`phase ${describeKey(value)} ${String(error.data.rule)}`);
    throw error;
  }
  return value;
}
