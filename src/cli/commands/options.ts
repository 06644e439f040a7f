/** Option parsers shared by several commands. */
import { InvalidArgumentError } from 'commander';

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
