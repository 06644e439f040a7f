import { describe, expect, it } from 'vitest';
import {
  decodeRefChecks,
  encodeRefChecks,
  fileIdentity,
  isIdentityTrustworthy,
  isVouchedFor,
  RACY_MARGIN_MS,
  type RefChecks,
} from '../../src/model/ref-checks.js';

const COMMIT = '2026-12-01T10-00-00.000Z_0123456789abcdef';
const OTHER_COMMIT = '2026-12-01T10-00-01.000Z_fedcba9876543210';
const CHECKSUM = 'a'.repeat(64);
const FULL_KEY = 'spec_2026-12-01T10:00:00.000Z';
const stats = { dev: 2049, ino: 77, size: 1234, mtimeMs: 1_000_000.5, ctimeMs: 1_000_000.75 };
const checks: RefChecks = { dir: 'spec', operations: { [FULL_KEY]: [COMMIT, CHECKSUM, 3] }, commits: { [COMMIT]: fileIdentity(stats) } };
const record = { fullKey: FULL_KEY, commit: COMMIT, checksum: CHECKSUM, version: 3 };

describe('ref checks', () => {
  it('vouch for a ref that names the commit and checksum checked, with a number no lower, while the commit file is unchanged', () => {
    expect(isVouchedFor(checks, record, fileIdentity(stats))).toBe(true);
    expect(isVouchedFor(checks, { ...record, version: 4 }, fileIdentity(stats))).toBe(true);
  });

  it('vouch for nothing else: another checksum, commit or full key, a lower number, a changed or missing commit file', () => {
    const identity = fileIdentity(stats);
    expect(isVouchedFor(checks, { ...record, checksum: 'b'.repeat(64) }, identity)).toBe(false);
    expect(isVouchedFor(checks, { ...record, commit: OTHER_COMMIT }, identity)).toBe(false);
    expect(isVouchedFor(checks, { ...record, fullKey: 'spec_2026-12-01T10:00:00.001Z' }, identity)).toBe(false);
    expect(isVouchedFor(checks, { ...record, version: 2 }, identity)).toBe(false);
    for (const changed of [{ ino: 78 }, { size: 1235 }, { mtimeMs: 1_000_001 }, { ctimeMs: 1_000_001 }, { dev: 2050 }]) {
      expect(isVouchedFor(checks, record, fileIdentity({ ...stats, ...changed }))).toBe(false);
    }
    expect(isVouchedFor(checks, record, null)).toBe(false);
  });

  it('trust a stat only for a file last changed more than the margin before it was checked', () => {
    const changedAt = Math.max(stats.mtimeMs, stats.ctimeMs);
    expect(isIdentityTrustworthy(stats, changedAt + RACY_MARGIN_MS + 1)).toBe(true);
    expect(isIdentityTrustworthy(stats, changedAt + RACY_MARGIN_MS)).toBe(false);
    expect(isIdentityTrustworthy(stats, changedAt)).toBe(false);
  });

  it('round-trip through their file, and refuse a torn file, another directory\'s, another format or a malformed entry', () => {
    const bytes = encodeRefChecks(checks);
    expect(decodeRefChecks(bytes, 'spec')).toEqual(checks);
    expect(decodeRefChecks(bytes.subarray(0, bytes.length - 5), 'spec')).toBeNull();
    expect(decodeRefChecks(bytes, 'other')).toBeNull();
    const parsed = JSON.parse(bytes.toString('utf8'));
    const variants = [
      { ...parsed, format: 2 },
      { ...parsed, operations: { [FULL_KEY]: [COMMIT, 'not-a-checksum', 3] } },
      { ...parsed, operations: { [FULL_KEY]: [COMMIT, CHECKSUM, 0] } },
      { ...parsed, operations: { [FULL_KEY]: [OTHER_COMMIT, CHECKSUM, 3] } },
      { ...parsed, commits: { 'not-a-commit': 'x' } },
      { ...parsed, commits: [] },
    ];
    for (const variant of variants) expect(decodeRefChecks(Buffer.from(JSON.stringify(variant)), 'spec')).toBeNull();
  });

  it('round-trip with copies of refs, and refuse the whole file for copies of another shape', () => {
    const name = '2026-12-01T10-00-00.000Z_01234567.json';
    const withCopies: RefChecks = { ...checks, copies: { identity: fileIdentity(stats), refs: { [name]: '{\n  "fullKey": "…"\n}\n' } } };
    const bytes = encodeRefChecks(withCopies);
    expect(decodeRefChecks(bytes, 'spec')).toEqual(withCopies);
    const parsed = JSON.parse(bytes.toString('utf8'));
    const variants = [
      { ...parsed, copies: [] },
      { ...parsed, copies: { refs: parsed.copies.refs } },
      { ...parsed, copies: { identity: 7, refs: parsed.copies.refs } },
      { ...parsed, copies: { identity: parsed.copies.identity, refs: { 'not-a-ref.json': 'x' } } },
      { ...parsed, copies: { identity: parsed.copies.identity, refs: { [name]: { fullKey: 'x' } } } },
    ];
    for (const variant of variants) expect(decodeRefChecks(Buffer.from(JSON.stringify(variant)), 'spec')).toBeNull();
  });
});
