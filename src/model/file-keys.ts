/**
 * How `add` names the versions of files: the logical key of a file is its
 * path from the project root without `.json`, with `/` read as `.`
 * (`specs/domain/user.json` → `specs.domain.user`). A `.` or `%` inside a
 * path segment is written `%2E` or `%25`, so the mapping is reversible:
 * `pathOfFileKey` gives the path back for every key `fileKeyOf` returns.
 */
import { InvalidArgumentError } from '../errors.js';
import { assertLogicalKey } from './keys.js';

const EXTENSION = '.json';

/** `specs/domain/user.json` → `specs.domain.user`; throws for paths that cannot name a key. */
export function fileKeyOf(relativePath: string): string {
  const path = relativePath.replace(/\\/g, '/');
  if (!path.endsWith(EXTENSION) || path.length === EXTENSION.length) {
    throw new InvalidArgumentError(`${relativePath}: add reads .json files`, { file: relativePath });
  }
  const segments = path.slice(0, -EXTENSION.length).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..') || path.startsWith('/')) {
    throw new InvalidArgumentError(`${relativePath} is not a path inside the project`, { file: relativePath });
  }
  const key = segments.map((s) => s.replace(/%/g, '%25').replace(/\./g, '%2E')).join('.');
  assertLogicalKey(key);
  return key;
}

/** The inverse of `fileKeyOf`: `specs.domain.user` → `specs/domain/user.json`. */
export function pathOfFileKey(key: string): string {
  return `${key
    .split('.')
    .map((s) => s.replace(/%2E/g, '.').replace(/%25/g, '%'))
    .join('/')}${EXTENSION}`;
}

/** How `add` derives keys: from the file's path, or from a top-level string field of its document. */
export type KeySource = { from: 'path' } | { from: 'field'; field: string };

/** `path` or `field:NAME`, as `--key-from` takes it. */
export function parseKeySource(text: string): KeySource {
  if (text === 'path') return { from: 'path' };
  const match = /^field:(.+)$/.exec(text);
  if (match) return { from: 'field', field: match[1]! };
  throw new InvalidArgumentError(`key source ${JSON.stringify(text)} is not "path" or "field:NAME"`, { keyFrom: text });
}

/** The key of one file's document under `source`. */
export function keyOfDocument(source: KeySource, relativePath: string, document: unknown): string {
  if (source.from === 'path') return fileKeyOf(relativePath);
  const value = document !== null && typeof document === 'object' && !Array.isArray(document) ? (document as Record<string, unknown>)[source.field] : undefined;
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(`${relativePath} has no string field "${source.field}" to take its key from`, { file: relativePath, field: source.field });
  }
  assertLogicalKey(value);
  return value;
}
