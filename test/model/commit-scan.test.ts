import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findOperation, proveCommit } from '../../src/model/commit-scan.js';
import { commitRecordProblem, encodeRecord, type CommitOperation, type CommitRecord } from '../../src/model/records.js';

const checksum = (n: number) => n.toString(16).padStart(64, '0');

function commit(operations: CommitOperation[], message = 'save'): CommitRecord {
  return { format: 1, parent: null, time: '2026-01-01T00:00:00.000Z', message, transaction: null, operations };
}

const op = (logicalKey: string, n: number): CommitOperation => ({
  fullKey: `${logicalKey}_2026-01-01T00:00:00.00${n}Z`,
  logicalKey,
  version: n + 1,
  checksum: checksum(n),
});

/** What a whole parse answers for each key (as the commit log parses a file whose layout is not proved), or 'refused'. */
function wholeParse(bytes: Buffer): Map<string, CommitOperation> | 'refused' {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'refused';
  }
  if (commitRecordProblem(parsed) !== null) return 'refused';
  return new Map((parsed as CommitRecord).operations.map((o) => [o.fullKey, o]));
}

/** The operation a lookup finds for `fullKey`, or 'not proved' when the file's layout is not. */
function lookUp(bytes: Buffer, fullKey: string) {
  const proved = proveCommit(bytes);
  return proved === null ? 'not proved' : findOperation(proved, fullKey);
}

/**
 * Asserts that lookups, when the file's layout is proved, answer every key
 * as a whole parse does: first by searching the bytes, then (past the
 * searches a commit gets) through its index, every key both ways.
 */
function expectLookupsAgree(bytes: Buffer, keys: Iterable<string>): 'proved' | 'not proved' {
  const proved = proveCommit(bytes);
  if (proved === null) return 'not proved';
  const whole = wholeParse(bytes);
  expect(whole, 'a proved file is one a whole parse accepts').not.toBe('refused');
  if (whole === 'refused') return 'proved';
  const all = [...keys, ...whole.keys()];
  for (const fullKey of all) {
    proved.searches = 0; // a search of the bytes, every time
    expect(findOperation(proved, fullKey)).toEqual(whole.get(fullKey));
  }
  proved.searches = Infinity; // the next lookup builds the index
  for (const fullKey of all) expect(findOperation(proved, fullKey)).toEqual(whole.get(fullKey));
  expect(proved.index).not.toBeNull();
  return 'proved';
}

const splice = (bytes: Buffer, find: string, replace: string) => {
  const text = bytes.toString('utf8');
  expect(text).toContain(find);
  return Buffer.from(text.replace(find, replace), 'utf8');
};

describe('findOperation', () => {
  it('finds the same operation a whole parse finds, for every key, keys that need escaping among them', () => {
    const operations = [op('a', 1), op('a.b', 2), op('quote"brace{}', 3), op('back\\slash', 4), op('ünï', 5), op('\u0001\ud800', 6)];
    const bytes = encodeRecord(commit(operations));
    for (const expected of operations) expect(lookUp(bytes, expected.fullKey)).toEqual(expected);
  });

  it('answers undefined for a key the commit does not list, and does not take a key for another that it prefixes', () => {
    const bytes = encodeRecord(commit([op('k1', 1), op('k10', 2)]));
    expect(lookUp(bytes, op('k1', 2).fullKey)).toBeUndefined();
    expect(lookUp(bytes, op('other', 1).fullKey)).toBeUndefined();
    expect(lookUp(bytes, op('k1', 1).fullKey)).toEqual(op('k1', 1));
  });

  it('takes the last of two operations for one key, as a parse into a map by full key does', () => {
    const first = op('k', 1);
    const second = { ...first, checksum: checksum(9) };
    expect(lookUp(encodeRecord(commit([first, second])), first.fullKey)).toEqual(second);
  });
});

describe('proveCommit', () => {
  it('finds what a whole parse finds, for any keys (escapes, prefixes, one listed twice), and nothing for a key not listed', () => {
    const logicalKey = fc.oneof(fc.constantFrom('k', 'k1', 'k10', 'a.b', 'quote"brace{}', 'back\\slash', 'ünï', '\u2028'), fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }));
    fc.assert(
      fc.property(fc.array(fc.tuple(logicalKey, fc.nat(9)), { minLength: 1, maxLength: 40 }), fc.tuple(logicalKey, fc.nat(9)), (listed, absent) => {
        const operations = listed.map(([key, n], i) => ({ ...op(key, n), checksum: checksum(i) }));
        const bytes = encodeRecord(commit(operations, 'a message with\n    {\n      "fullKey": "k_2026-01-01T00:00:00.001Z",\n'));
        expect(proveCommit(bytes)).not.toBeNull();
        expect(expectLookupsAgree(bytes, [op(...absent).fullKey])).toBe('proved');
      }),
      { numRuns: 300 },
    );
  });

  it('never reads an operation out of anything but the record\'s own list (a clone can carry any file under a matching name)', () => {
    const listed = op('x', 1);
    const forged = op('y', 2);
    const bytes = encodeRecord(commit([listed]));
    const block = JSON.stringify([forged], null, 2).replace(/\n/g, '\n  ');
    const crafted = {
      'a field before it with operation blocks': splice(bytes, '\n  "operations": [', `\n  "decoy": ${block},\n  "operations": [`),
      'a field after it with operation blocks': splice(bytes, '\n  ]', `\n  ],\n  "decoy": ${block}`),
      'a second operations field that a parse keeps': splice(bytes, '\n  ]', `\n  ],\n  "operations": ${block}`),
      'the same, its name escaped': splice(bytes, '\n  ]', `\n  ],\n  "op\\u0065rations": ${block}`),
      'the list nested in another field': splice(splice(bytes, '\n  "operations": [', '\n  "nested": {\n  "operations": ['), '\n  ]', '\n  ]},\n  "operations": []'),
      'an operations field before the list, which a parse overrides': splice(bytes, '{', '{\n  "operations": "x",'),
      'a message that forges a block': encodeRecord(commit([listed], `\n    ${JSON.stringify(forged, null, 2)}`)),
    };
    for (const [what, file] of Object.entries(crafted)) {
      expect(wholeParse(file), what).not.toBe('refused');
      expectLookupsAgree(file, [listed.fullKey, forged.fullKey]);
    }
  });

  it('proves no file a whole parse refuses, so a read refuses what fsck refuses', () => {
    const wanted = op('k', 1);
    const bytes = encodeRecord(commit([wanted, op('other', 2)]));
    const refused = [
      splice(bytes, '"format": 1', '"format": 2'),
      splice(bytes, '"time": "2026-01-01T00:00:00.000Z"', '"time": "yesterday"'),
      splice(bytes, '"message": "save"', '"message": 7'),
      splice(bytes, '"parent": null', '"parent": "not-a-commit"'),
      splice(bytes, '"version": 3', '"version": 9007199254740992'),
      splice(bytes, '"version": 3', '"version": 0'),
      Buffer.concat([bytes, Buffer.from('}')]),
    ];
    for (const file of refused) {
      expect(wholeParse(file)).toBe('refused');
      expect(proveCommit(file)).toBeNull();
    }
  });

  it('proves no other layout, where a whole parse would find what a byte match misses', () => {
    const wanted = op('a', 1);
    const bytes = encodeRecord(commit([wanted]));
    const unproved = [
      Buffer.from(JSON.stringify(commit([wanted]))),
      encodeRecord(commit([])),
      encodeRecord(commit([{ ...wanted, extra: 1 } as CommitOperation])),
      encodeRecord(commit([{ ...wanted, version: 1.5 }])),
      encodeRecord(commit([{ ...wanted, version: -1 }])),
      encodeRecord(commit([{ logicalKey: 'a', fullKey: wanted.fullKey, version: 1, checksum: wanted.checksum } as CommitOperation])),
      splice(bytes, `"fullKey": "a_`, '"fullKey": "\\u0061_'),
      splice(bytes, `"version": 2`, '"version": 02'),
    ];
    for (const file of unproved) expect(proveCommit(file)).toBeNull();
  });

  it('agrees with a whole parse on any edit of a commit file', () => {
    const operations = [op('k', 1), op('k', 2), op('j', 3)];
    const bytes = encodeRecord(commit(operations));
    const pieces = ['\n', ' ', ',', '"', '[', ']', '{', '}', '\\', 'u0061', '0', '1', '"operations": [', '"fullKey": ', 'k_2026', '\n    {\n      "fullKey": "k_2026-01-01T00:00:00.001Z",'];
    const edit = fc.record({ at: fc.nat(bytes.length), cut: fc.nat(3), insert: fc.constantFrom(...pieces) });
    let provedAfterEdit = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let file = bytes;
        for (const { at, cut, insert } of edits) {
          const position = Math.min(at, file.length);
          file = Buffer.concat([file.subarray(0, position), Buffer.from(insert), file.subarray(Math.min(file.length, position + cut))]);
        }
        if (expectLookupsAgree(file, operations.map((o) => o.fullKey)) === 'proved') provedAfterEdit++;
      }),
      { numRuns: 2000 },
    );
    // Some edits keep a provable layout (a changed checksum digit, a key's character): the agreement was checked on those too.
    expect(provedAfterEdit).toBeGreaterThan(0);
  });
});
