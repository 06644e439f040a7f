import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from '../../src/errors.js';
import {
  assertLogicalKey,
  fileStemToTimestamp,
  isRefFileNameOf,
  keyDirName,
  makeFullKey,
  nextTimestamp,
  parseFullKey,
  refFileName,
  refFileTimestamp,
  timestampToFileStem,
} from '../../src/model/keys.js';

describe('logical keys', () => {
  it('accepts hierarchical names', () => {
    for (const key of ['domain.user.specification', 'api.authentication.definition', 'phase5.domain_model.final', 'failure_phase-4', 'User Spec']) {
      expect(() => assertLogicalKey(key)).not.toThrow();
    }
  });

  it.each([
    ['', 'may not be empty'],
    ['a/b', 'may not contain "/"'],
    ['a\\b', 'may not contain "\\"'],
    ['a..b', 'may not contain ".."'],
    ['..', 'may not contain ".."'],
    ['a\u0000b', 'may not contain NUL'],
    ['a\nb', 'control'],
    ['a\u202eb', 'format characters'],
    ['zero\u200bwidth', 'format characters'],
    [' padded', 'whitespace'],
    ['x'.repeat(201), 'the limit is 200'],
    ['é'.repeat(101), 'the limit is 200'],
    ['e\u0301', 'NFC'],
  ])('refuses %j naming the rule', (key, rule) => {
    expect(() => assertLogicalKey(key)).toThrow(InvalidKeyError);
    expect(() => assertLogicalKey(key)).toThrow(rule);
  });

  it('refuses non-strings', () => {
    expect(() => assertLogicalKey(42)).toThrow(InvalidKeyError);
  });
});

describe('full keys and timestamps', () => {
  it('splits a full key at its last timestamp, even when the logical key holds underscores', () => {
    const full = makeFullKey('user_spec_v2', '2025-01-20T10:00:00.000Z');
    expect(full).toBe('user_spec_v2_2025-01-20T10:00:00.000Z');
    expect(parseFullKey(full)).toEqual({ logicalKey: 'user_spec_v2', timestamp: '2025-01-20T10:00:00.000Z' });
    expect(parseFullKey('no-timestamp')).toBeNull();
  });

  it('gives a later timestamp than the previous one even in the same millisecond or when the clock steps back', () => {
    const now = Date.parse('2025-01-20T10:00:00.000Z');
    expect(nextTimestamp(undefined, now)).toBe('2025-01-20T10:00:00.000Z');
    expect(nextTimestamp('2025-01-20T10:00:00.000Z', now)).toBe('2025-01-20T10:00:00.001Z');
    expect(nextTimestamp('2025-01-20T10:00:05.000Z', now)).toBe('2025-01-20T10:00:05.001Z');
  });

  it('maps timestamps to file stems without ":" that sort the same and map back', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1971-01-01'), max: new Date('9999-01-01'), noInvalidDate: true }), fc.date({ min: new Date('1971-01-01'), max: new Date('9999-01-01'), noInvalidDate: true }), (a, b) => {
        const [ta, tb] = [a.toISOString(), b.toISOString()];
        const [sa, sb] = [timestampToFileStem(ta), timestampToFileStem(tb)];
        expect(sa).not.toContain(':');
        expect(fileStemToTimestamp(sa)).toBe(ta);
        expect(Math.sign(sa.localeCompare(sb))).toBe(Math.sign(ta.localeCompare(tb)));
      }),
    );
  });
});

describe('key directory names', () => {
  const portable = /^[a-z0-9._%~A-F-]+$/;

  it('keeps simple lower-case names readable', () => {
    expect(keyDirName('domain.user.specification')).toBe('domain.user.specification');
    expect(keyDirName('failure_phase-4')).toBe('failure_phase-4');
  });

  it('escapes upper case so names differing only in case never collide on case-insensitive file systems', () => {
    expect(keyDirName('User').toLowerCase()).not.toBe(keyDirName('user').toLowerCase());
  });

  it('escapes Windows device names and edge dots', () => {
    expect(keyDirName('con')).not.toBe('con');
    expect(keyDirName('nul.spec').startsWith('nul')).toBe(false);
    expect(keyDirName('.hidden').startsWith('.')).toBe(false);
    expect(keyDirName('trailing.').endsWith('.')).toBe(false);
  });

  it('is portable, at most 150 characters, and distinct for distinct valid keys', () => {
    const validKey = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 }).filter((key) => {
      try {
        assertLogicalKey(key);
        return true;
      } catch {
        return false;
      }
    });
    fc.assert(
      fc.property(validKey, validKey, (a, b) => {
        const [da, db] = [keyDirName(a), keyDirName(b)];
        expect(da).toMatch(portable);
        expect(da.length).toBeLessThanOrEqual(150);
        if (a !== b) expect(da.toLowerCase()).not.toBe(db.toLowerCase());
      }),
      { numRuns: 300 },
    );
  });
});

describe('ref file names', () => {
  const commit = '2025-01-01T00-00-00.000Z_0123456789abcdef';
  it('carry the commit suffix, parse in both forms, and sort by timestamp first', () => {
    expect(refFileName('2025-01-01T00:00:00.000Z', commit)).toBe('2025-01-01T00-00-00.000Z_01234567.json');
    expect(refFileTimestamp('2025-01-01T00-00-00.000Z_01234567.json')).toBe('2025-01-01T00:00:00.000Z');
    expect(refFileTimestamp('2025-01-01T00-00-00.000Z.json')).toBe('2025-01-01T00:00:00.000Z');
    expect(refFileTimestamp('2025-01-01T00-00-00.000Z_0123456.json')).toBeNull();
    expect(refFileTimestamp('notes.json')).toBeNull();
    expect(isRefFileNameOf('2025-01-01T00-00-00.000Z.json', '2025-01-01T00:00:00.000Z', commit)).toBe(true);
    expect(isRefFileNameOf('2025-01-01T00-00-00.000Z_ffffffff.json', '2025-01-01T00:00:00.000Z', commit)).toBe(false);
    const names = ['2025-01-01T00-00-00.001Z.json', '2025-01-01T00-00-00.000Z_ffffffff.json', '2025-01-01T00-00-00.000Z_00000000.json', '2025-01-01T00-00-00.000Z.json'];
    expect([...names].sort().map(refFileTimestamp)).toEqual(['2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.001Z']);
    expect([...names].sort()[0]).toBe('2025-01-01T00-00-00.000Z.json');
  });
});
