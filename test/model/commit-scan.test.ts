import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findIndexedOperation, indexCommitOperations } from '../../src/model/commit-scan.js';
import { encodeRecord, type CommitOperation, type CommitRecord } from '../../src/model/records.js';

const checksum = (n: number) => n.toString(16).padStart(64, '0');

function commit(operations: CommitOperation[], message = 'save'): CommitRecord {
  return { format: 1, parent: null, time: '2026-01-01T00:00:00.000Z', message, transaction: null, operations };
}

const op = (logicalKey: string, n: number): CommitOperation => ({
  fullKey: `${logicalKey}_2026-01-01T00:00:00.00${n}Z`,
  logicalKey,
  version: n,
  checksum: checksum(n),
});

/** The operation the index finds for `fullKey`; null when it cannot tell (no index for that layout, or not found). */
function indexedOperation(bytes: Buffer, fullKey: string) {
  const index = indexCommitOperations(bytes);
  return index === null ? null : findIndexedOperation(bytes, index, fullKey);
}

describe('findIndexedOperation', () => {
  it('finds the same operation a whole parse finds, for every key, keys that need escaping among them', () => {
    const operations = [op('a', 1), op('a.b', 2), op('quote"brace{}', 3), op('back\\slash', 4), op('ünï', 5)];
    const bytes = encodeRecord(commit(operations));
    for (const expected of operations) expect(indexedOperation(bytes, expected.fullKey)).toEqual(expected);
  });

  it('does not take a key for another that it prefixes', () => {
    const bytes = encodeRecord(commit([op('k1', 1), op('k10', 2)]));
    expect(indexedOperation(bytes, op('k1', 2).fullKey)).toBeNull();
    expect(indexedOperation(bytes, op('k1', 1).fullKey)).toEqual(op('k1', 1));
  });

  it('never reads an operation out of the commit message', () => {
    const listed = op('x', 1);
    const forged = JSON.stringify({ fullKey: op('y', 2).fullKey, logicalKey: 'y', version: 2, checksum: checksum(2) }, null, 2);
    const bytes = encodeRecord(commit([listed], `\n    ${forged}`));
    expect(indexedOperation(bytes, op('y', 2).fullKey)).toBeNull();
  });

  it('leaves to a whole parse what it cannot tell: absent keys, another layout, unknown or invalid fields', () => {
    const wanted = op('k', 1);
    expect(indexedOperation(encodeRecord(commit([op('other', 1)])), wanted.fullKey)).toBeNull();
    expect(indexedOperation(Buffer.from(JSON.stringify(commit([wanted]))), wanted.fullKey)).toBeNull();
    expect(indexedOperation(encodeRecord(commit([{ ...wanted, extra: 1 } as CommitOperation])), wanted.fullKey)).toBeNull();
    expect(indexedOperation(encodeRecord(commit([{ ...wanted, checksum: 'nothex' }])), wanted.fullKey)).toBeNull();
    expect(indexedOperation(encodeRecord(commit([{ ...wanted, version: 1.5 }])), wanted.fullKey)).toBeNull();
  });

  it('takes the last of two operations for one key, as a parse into a map by full key does', () => {
    const first = op('k', 1);
    const second = { ...first, checksum: checksum(9) };
    expect(indexedOperation(encodeRecord(commit([first, second])), first.fullKey)).toEqual(second);
  });
});

describe('indexCommitOperations', () => {
  const lookUp = (bytes: Buffer, fullKey: string) => {
    const index = indexCommitOperations(bytes);
    return index === null ? 'no index' : findIndexedOperation(bytes, index, fullKey);
  };

  it('finds what a whole parse finds, for any keys (escapes, prefixes, one listed twice), and nothing for a key not listed', () => {
    const logicalKey = fc.oneof(fc.constantFrom('k', 'k1', 'k10', 'a.b', 'quote"brace{}', 'back\\slash', 'ünï', '\u2028'), fc.string({ minLength: 1, maxLength: 12 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(logicalKey, fc.nat(9)), { minLength: 1, maxLength: 40 }), fc.tuple(logicalKey, fc.nat(9)), (listed, absent) => {
        const operations = listed.map(([key, n], i) => ({ ...op(key, n), checksum: checksum(i) }));
        const bytes = encodeRecord(commit(operations, 'a message with\n    {\n      "fullKey": "k_2026-01-01T00:00:00.001Z",\n'));
        const parsed = new Map(operations.map((o) => [o.fullKey, o]));
        for (const [fullKey, expected] of parsed) expect(lookUp(bytes, fullKey)).toEqual(expected);
        const missing = op(...absent).fullKey;
        if (!parsed.has(missing)) expect(lookUp(bytes, missing)).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('is not built for another layout, and finds nothing it cannot check field by field', () => {
    const wanted = op('k', 1);
    expect(indexCommitOperations(Buffer.from(JSON.stringify(commit([wanted]))))).toBeNull();
    expect(indexCommitOperations(encodeRecord(commit([])))).toBeNull();
    expect(lookUp(encodeRecord(commit([{ ...wanted, extra: 1 } as CommitOperation])), wanted.fullKey)).toBeNull();
    expect(lookUp(encodeRecord(commit([{ ...wanted, checksum: 'nothex' }])), wanted.fullKey)).toBeNull();
  });
});
