/**
 * Rules for logical keys, full keys (`<logicalKey>_<ISO timestamp>`) and how
 * both map to file names that are valid on every common file system
 * (ext4, APFS, NTFS: no `:`, case-insensitive, reserved device names).
 * Pure functions only.
 */
import { createHash } from 'node:crypto';
import { InvalidKeyError } from '../errors.js';

export const MAX_LOGICAL_KEY_BYTES = 200;

// Field ranges are checked by the pattern; only days 29–31 need the calendar.
const ISO_TIMESTAMP = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;
const FULL_KEY = /^(.+)_(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/s;
// C0 and C1 controls, DEL, and Unicode format characters (zero-width joiners,
// bidi overrides) that make two keys look alike while being different.
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\p{Cf}]/u;

/**
 * Throws `InvalidKeyError` unless `key` is a usable logical key:
 * a non-empty NFC string of at most 200 UTF-8 bytes, without `/`, `\`, `..`,
 * control or invisible format characters, and without surrounding whitespace.
 */
export function assertLogicalKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError(String(key), `must be a string, not ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(key, 'may not be empty');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_LOGICAL_KEY_BYTES) {
    throw new InvalidKeyError(key, `is ${bytes} bytes long; the limit is ${MAX_LOGICAL_KEY_BYTES}`);
  }
  if (key.includes('\u0000')) throw new InvalidKeyError(key, 'may not contain NUL');
  if (key.includes('/')) throw new InvalidKeyError(key, 'may not contain "/"');
  if (key.includes('\\')) throw new InvalidKeyError(key, 'may not contain "\\"');
  if (key.includes('..')) throw new InvalidKeyError(key, 'may not contain ".."');
  if (FORBIDDEN_CHARS.test(key)) throw new InvalidKeyError(key, 'may not contain control or invisible format characters');
  if (!key.isWellFormed()) throw new InvalidKeyError(key, 'is not well-formed Unicode (lone surrogate)');
  if (key.normalize('NFC') !== key) throw new InvalidKeyError(key, 'must be in Unicode normal form NFC');
  if (key.trim() !== key) throw new InvalidKeyError(key, 'may not begin or end with whitespace');
}

export function isIsoTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !ISO_TIMESTAMP.test(value)) return false;
  // A day past the 28th must exist in its month: the ISO string of the parsed
  // date is the same string only for a real calendar day.
  return Number(value.slice(8, 10)) <= 28 || new Date(value).toISOString() === value;
}

export function makeFullKey(logicalKey: string, timestamp: string): string {
  return `${logicalKey}_${timestamp}`;
}

/** Splits a full key at its last `_<ISO timestamp>`; null when it is not one. */
export function parseFullKey(fullKey: string): { logicalKey: string; timestamp: string } | null {
  const match = FULL_KEY.exec(fullKey);
  if (!match) return null;
  return { logicalKey: match[1]!, timestamp: match[2]! };
}

/**
 * The timestamp of a key's next version: now, or one millisecond after the
 * key's newest version when the clock has not moved past it (same-millisecond
 * bursts, or a clock that stepped back), so full keys stay unique and ordered.
 */
export function nextTimestamp(previous: string | undefined, nowMs: number): string {
  const floor = previous === undefined ? Number.NEGATIVE_INFINITY : Date.parse(previous) + 1;
  return new Date(Math.max(nowMs, floor)).toISOString();
}

/** `2025-01-20T10:00:00.000Z` → `2025-01-20T10-00-00.000Z`: sorts the same, no `:`. */
export function timestampToFileStem(timestamp: string): string {
  return timestamp.replaceAll(':', '-');
}

export function fileStemToTimestamp(stem: string): string | null {
  const match = /^(\d{4}-\d{2}-\d{2}T)(\d{2})-(\d{2})-(\d{2}\.\d{3}Z)$/.exec(stem);
  if (!match) return null;
  const timestamp = `${match[1]}${match[2]}:${match[3]}:${match[4]}`;
  return isIsoTimestamp(timestamp) ? timestamp : null;
}

// `<timestamp stem>_<8 hex>.json`, or `<timestamp stem>.json` as stores before the suffix wrote.
const REF_FILE_NAME = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z)(?:_[0-9a-f]{8})?\.json$/;

/**
 * The file name of a version's ref: its timestamp stem, `_`, and the first 8
 * hex digits of the content hash of the commit that published it (the last
 * 16 characters of a commit id). Two clones that save one key in the same
 * millisecond write different files, so merging them in git never conflicts.
 * Names sort by timestamp first; versions with one timestamp sort by suffix.
 */
export function refFileName(timestamp: string, commitId: string): string {
  return `${timestampToFileStem(timestamp)}_${commitId.slice(-16, -8)}.json`;
}

/** The timestamp a ref file name stands for (either form); null for any other name. */
export function refFileTimestamp(name: string): string | null {
  const match = REF_FILE_NAME.exec(name);
  return match === null ? null : fileStemToTimestamp(match[1]!);
}

/** Whether `name` is a valid file name for the ref of a version with `timestamp` published by `commitId`. */
export function isRefFileNameOf(name: string, timestamp: string, commitId: string): boolean {
  return name === refFileName(timestamp, commitId) || name === legacyRefFileName(timestamp);
}

/** The name of a version's ref in stores written before ref names carried a commit suffix. */
export function legacyRefFileName(timestamp: string): string {
  return `${timestampToFileStem(timestamp)}.json`;
}

const SAFE_NAME_CHAR = /[a-z0-9_-]/;
const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/;
const MAX_PLAIN_DIR_NAME = 150;

/**
 * The directory name that holds a logical key's versions. Lower-case ASCII
 * letters, digits, `_`, `-` and inner dots are kept; every other byte of the
 * UTF-8 form becomes `%XX` (upper-case hex), so names differing only in case
 * never collide on case-insensitive file systems. A leading or trailing dot
 * and Windows device names are escaped too. Names that would exceed 150
 * characters keep a 100-character prefix followed by `~` and 40 hex digits of
 * the key's sha256. The mapping is one-way by design: readers take the
 * logical key from the ref files, never from the directory name.
 */
export function keyDirName(logicalKey: string): string {
  let encoded = '';
  const bytes = Buffer.from(logicalKey, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const char = String.fromCharCode(byte);
    const isInnerDot = char === '.' && i > 0 && i < bytes.length - 1;
    encoded += byte < 0x80 && (SAFE_NAME_CHAR.test(char) || isInnerDot) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (WINDOWS_DEVICE_NAME.test(encoded)) {
    encoded = `%${encoded.charCodeAt(0).toString(16).toUpperCase()}${encoded.slice(1)}`;
  }
  if (encoded.length <= MAX_PLAIN_DIR_NAME) return encoded;
  let prefix = encoded.slice(0, 100);
  // Never cut a %XX escape in half.
  const lastPercent = prefix.lastIndexOf('%');
  if (lastPercent > prefix.length - 3) prefix = prefix.slice(0, lastPercent);
  return `${prefix}~${createHash('sha256').update(logicalKey, 'utf8').digest('hex').slice(0, 40)}`;
}
