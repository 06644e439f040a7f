import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commitPartProblem,
  decodeCommitHead,
  decodeCommitPart,
  encodeCommit,
  findOperationInPart,
  OPERATIONS_PER_PART,
  PARTS_ABOVE,
  partHolding,
  type CommitHead,
} from '../../src/model/commit-parts.js';
import { commitRecordProblem, encodeRecord, type CommitOperation, type CommitRecord } from '../../src/model/records.js';

const TIME = '2026-01-01T00:00:00.000Z';

function operationsOf(count: number, key = (i: number) => `key.${(i * 7919) % count}`): CommitOperation[] {
  return Array.from({ length: count }, (_, i) => ({
    fullKey: `${key(i)}_${TIME}`,
    logicalKey: key(i),
    version: i + 1,
    checksum: createHash('sha256').update(String(i)).digest('hex'),
  }));
}

function recordOf(operations: CommitOperation[], git = false): CommitRecord {
  const record: CommitRecord = { format: 1, parent: null, time: TIME, message: 'transaction tx_1', transaction: 'tx_1', operations };
  if (git) record.git = { commit: 'a'.repeat(40), branch: 'main' };
  return record;
}

/** What a reader of the parts finds for `fullKey`: the head, the part that would hold it, the operation in it. */
function lookUp(bytes: Buffer, fullKey: string): CommitOperation | undefined {
  const head = decodeCommitHead(bytes)!;
  const n = partHolding(head, fullKey);
  if (n < 0) return undefined;
  return findOperationInPart(partBytes(bytes, head, n), fullKey);
}

function partBytes(bytes: Buffer, head: CommitHead, n: number): Buffer {
  return bytes.subarray(head.offsets[n]!, head.offsets[n]! + head.parts[n]!.bytes);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * A head decoded the plain way, as a reference: the whole head parsed, its
 * record and parts checked by the rules FORMAT.md gives, and encoded again
 * to compare with its bytes.
 */
function headByParse(bytes: Buffer): { record: CommitRecord; parts: unknown[]; length: number } | null {
  const opening = '\n  "operations": [';
  const length = bytes.indexOf(opening) + opening.length;
  if (length < opening.length) return null;
  let parsed: { parts?: unknown } & Record<string, unknown>;
  try {
    parsed = JSON.parse(`${bytes.toString('utf8', 0, length)}]\n}`);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray(parsed.parts)) return null;
  const { parts, ...rest } = parsed as { parts: Array<Record<string, unknown>> } & Record<string, unknown>;
  const record = rest as unknown as CommitRecord;
  if (commitRecordProblem(record) !== null || record.operations.length !== 0) return null;
  const total = parts.reduce((sum, part) => sum + (typeof part?.operations === 'number' ? part.operations : 0), 0);
  const isPartList =
    total > PARTS_ABOVE &&
    parts.every(
      (part, i) =>
        part !== null &&
        typeof part === 'object' &&
        Number.isSafeInteger(part.operations) &&
        (part.operations as number) >= 1 &&
        (i === parts.length - 1 ? (part.operations as number) <= OPERATIONS_PER_PART : part.operations === OPERATIONS_PER_PART) &&
        typeof part.first === 'string' &&
        (i === 0 || (parts[i - 1]!.first as string) < part.first) &&
        Number.isSafeInteger(part.bytes) &&
        (part.bytes as number) > 0 &&
        typeof part.digest === 'string' &&
        /^[0-9a-f]{64}$/.test(part.digest),
    );
  if (!isPartList) return null;
  const fields: Record<string, unknown> = { format: record.format, parent: record.parent, time: record.time, message: record.message, transaction: record.transaction };
  if (record.git !== undefined) fields.git = record.git;
  fields.parts = parts.map(({ operations, first, bytes: size, digest }) => ({ operations, first, bytes: size, digest }));
  fields.operations = [];
  const encoded = encodeRecord(fields);
  return encoded.subarray(0, length).equals(bytes.subarray(0, length)) && encoded.length === length + ']\n}\n'.length ? { record, parts, length } : null;
}

describe('encodeCommit', () => {
  it('writes a commit of a few operations as one piece, hashed whole, exactly as before parts existed', () => {
    for (const operations of [operationsOf(1), operationsOf(PARTS_ABOVE)]) {
      const record = recordOf(operations);
      const { bytes, hashed } = encodeCommit(record);
      expect(bytes.equals(encodeRecord(record))).toBe(true);
      expect(hashed).toBe(bytes);
      expect(decodeCommitHead(bytes)).toBeNull();
    }
  });

  it('writes a commit whose full keys repeat as one piece, whatever its size (parts need distinct keys)', () => {
    const operations = operationsOf(PARTS_ABOVE + 10);
    operations[5] = { ...operations[5]!, fullKey: operations[200]!.fullKey };
    const { bytes } = encodeCommit(recordOf(operations));
    expect(bytes.equals(encodeRecord(recordOf(operations)))).toBe(true);
  });

  it('writes a large commit as the JSON of its record with parts, operations sorted by full key, and hashes only the head', () => {
    for (const git of [false, true]) {
      const operations = operationsOf(1000);
      const record = recordOf(operations, git);
      const { bytes, hashed } = encodeCommit(record);
      const parsed = JSON.parse(bytes.toString('utf8')) as CommitRecord & { parts: Array<{ operations: number; first: string; bytes: number; digest: string }> };
      const sorted = [...operations].sort((a, b) => (a.fullKey < b.fullKey ? -1 : 1));
      expect(parsed.operations).toEqual(sorted);
      expect(parsed.parts.map((p) => p.operations)).toEqual([...Array(7).fill(OPERATIONS_PER_PART), 1000 - 7 * OPERATIONS_PER_PART]);
      expect(parsed.git).toEqual(record.git);
      // Still the store's one encoding of a record: two-space JSON and a newline.
      expect(bytes.equals(encodeRecord(parsed))).toBe(true);
      expect(hashed.equals(bytes.subarray(0, hashed.length))).toBe(true);
      expect(hashed.toString('utf8').endsWith('\n  "operations": [')).toBe(true);
      const head = decodeCommitHead(bytes)!;
      expect(head.length).toBe(hashed.length);
      expect(head.fileLength).toBe(bytes.length);
      expect(head.record).toEqual({ ...record, operations: [] });
      for (let n = 0; n < head.parts.length; n++) {
        expect(sha256(partBytes(bytes, head, n))).toBe(parsed.parts[n]!.digest);
        expect(decodeCommitPart(head, n, partBytes(bytes, head, n))).toEqual(sorted.slice(n * OPERATIONS_PER_PART, (n + 1) * OPERATIONS_PER_PART));
      }
    }
  });
});

// ASCII keys, and keys of any code points (escapes, lone surrogates, characters past U+FFFF, which sort otherwise in UTF-8).
const anyKey = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }));

describe('finding an operation through the parts', () => {
  it('answers what a whole parse answers, for every key listed and for keys between, before and after them', () => {
    fc.assert(
      fc.property(fc.uniqueArray(anyKey, { minLength: PARTS_ABOVE + 1, maxLength: 700 }), fc.array(anyKey, { maxLength: 30 }), (keys, others) => {
        const operations = operationsOf(keys.length, (i) => keys[i]!);
        const bytes = encodeCommit(recordOf(operations)).bytes;
        const whole = new Map(operations.map((op) => [op.fullKey, op]));
        const head = decodeCommitHead(bytes)!;
        for (let n = 0; n < head.parts.length; n++) expect(commitPartProblem(head, n, partBytes(bytes, head, n))).toBeNull();
        for (const op of operations) expect(lookUp(bytes, op.fullKey)).toEqual(op);
        for (const other of [...others.map((k) => `${k}_${TIME}`), '', '\u0000', '\uffff'.repeat(3)]) expect(lookUp(bytes, other)).toEqual(whole.get(other));
      }),
      { numRuns: 25 },
    );
  });
});

describe('decodeCommitHead and decodeCommitPart refuse what the store did not write', () => {
  const operations = operationsOf(600);
  const record = recordOf(operations);
  const { bytes } = encodeCommit(record);
  const head = decodeCommitHead(bytes)!;
  const text = bytes.toString('utf8');

  it('is no head for a head in another layout, or whose parts could not be what the store wrote', () => {
    const headText = text.slice(0, head.length);
    const parts = JSON.parse(text).parts as Array<Record<string, unknown>>;
    const withParts = (edited: unknown[]) => headText.replace(JSON.stringify(parts, null, 2).replace(/\n/g, '\n  '), JSON.stringify(edited, null, 2).replace(/\n/g, '\n  '));
    const variants = [
      headText.replace('"format": 1', '"format":  1'),
      headText.replace('"parts"', '"extra": 1,\n  "parts"'),
      withParts(parts.slice(0, 2)), // 256 operations: written as one piece
      withParts([parts[1], parts[0], ...parts.slice(2)]), // first keys out of order
      withParts([{ ...parts[0], operations: 100 }, ...parts.slice(1)]), // a part short but the last
      withParts([{ ...parts[0], extra: true }, ...parts.slice(1)]),
      withParts([{ ...parts[0], digest: 'A'.repeat(64) }, ...parts.slice(1)]),
      headText.replace('"format": 1', '"format": 2'),
      // Laid out otherwise inside the list of parts, which is scanned rather than parsed.
      headText.replace('"operations": 128,', '"operations":128,'),
      headText.replace('"operations": 128,', '"operations": 0128,'),
      headText.replace(/"bytes": (\d+)/, '"bytes": $1.0'),
      headText.replace(/"bytes": (\d+)/, '"bytes": $1e0'),
      headText.replace(/"bytes": (\d+)/, '"bytes": 9007199254740993'), // 16 digits, past the safe integers
      headText.replace(/"first": "k/, '"first": "\\u006b'),
      headText.replace(/\n {6}"first": ("[^"]*"),\n {6}"bytes": (\d+),/, '\n      "bytes": $2,\n      "first": $1,'),
      headText.replace('\n    },\n    {', '\n    }, \n    {'),
      headText.replace('\n  ],\n  "operations": [', '\n  ]\n,  "operations": ['),
      headText.replace(/"digest": "([0-9a-f]{64})"\n    }/, '"digest": "$1",\n      "digest": "$1"\n    }'),
      headText.replace('\n  "parts": [', '\n  "parts": [],\n  "parts": ['),
    ];
    for (const variant of variants) {
      expect(variant).not.toBe(headText);
      expect(decodeCommitHead(Buffer.from(variant + text.slice(head.length)))).toBeNull();
    }
    // A byte that is not UTF-8 decodes to U+FFFD, which encodes to other bytes: compared as bytes, it is refused.
    const withMessage = encodeCommit({ ...record, message: 'transaction \ufffd' }).bytes;
    const at = withMessage.indexOf(Buffer.from('\ufffd'));
    const invalid = Buffer.concat([withMessage.subarray(0, at), Buffer.from([0xff, 0xfe, 0xfd]), withMessage.subarray(at + 3)]);
    expect(decodeCommitHead(withMessage)).not.toBeNull();
    expect(decodeCommitHead(invalid)).toBeNull();
  });

  it('accepts a head after any edit of one byte exactly when a parse of it encodes back to the same bytes, and decodes it as that parse does', () => {
    const withGit = encodeCommit(recordOf(operationsOf(700, (i) => `k\u00e9y.${i}\u2028`), true)).bytes;
    const lengthOf = (bytes: Buffer) => bytes.indexOf('\n  "operations": [') + '\n  "operations": ['.length;
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('replace', 'insert', 'delete'), (git, position, byte, edit) => {
        const original = git ? withGit : bytes;
        const at = position % lengthOf(original);
        const edited =
          edit === 'replace'
            ? Buffer.concat([original.subarray(0, at), Buffer.from([byte]), original.subarray(at + 1)])
            : edit === 'insert'
              ? Buffer.concat([original.subarray(0, at), Buffer.from([byte]), original.subarray(at)])
              : Buffer.concat([original.subarray(0, at), original.subarray(at + 1)]);
        const expected = headByParse(edited);
        const decoded = decodeCommitHead(edited);
        if (expected === null) expect(decoded).toBeNull();
        else expect(decoded === null ? null : { record: decoded.record, parts: decoded.parts, length: decoded.length }).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a part that differs from its digest by one byte', () => {
    const part = Buffer.from(partBytes(bytes, head, 2));
    part[100] ^= 1;
    expect(decodeCommitPart(head, 2, part)).toMatch(/does not match its digest/);
  });

  /** A head whose part `n` is `part` (its digest and length set to match), for parts that verify but are not what the store writes. */
  function headWithPart(n: number, part: Buffer): CommitHead {
    return { ...head, parts: head.parts.map((p, i) => (i === n ? { ...p, bytes: part.length, digest: sha256(part) } : p)) };
  }

  it('refuses a part that matches its digest but holds other operations than the head says, or lays them out otherwise', () => {
    const original = decodeCommitPart(head, 1, partBytes(bytes, head, 1)) as CommitOperation[];
    const encode = (ops: unknown[], separator = ',') => Buffer.from(ops.map((op) => `${separator}\n    ${JSON.stringify(op, null, 2).replace(/\n/g, '\n    ')}`).join(''));
    const cases: Array<[Buffer, RegExp]> = [
      [encode([original[0], original[2], original[1], ...original.slice(3)]), /full key order/],
      [encode(original.slice(0, -1)), /does not hold/],
      [encode([...original.slice(0, -1), { ...original.at(-1)!, fullKey: head.parts[2]!.first }]), /reaches into part 2/],
      [encode([{ ...original[0], fullKey: `${original[0]!.fullKey}x` }, ...original.slice(1)]), /does not begin with|full key order/],
      [encode([{ ...original[0], checksum: 'nope' }, ...original.slice(1)]), /not a list of operations laid out/],
      [encode([{ ...original[0], version: -1 }, ...original.slice(1)]), /not a list of operations laid out/],
      [encode([{ ...original[0], version: 0 }, ...original.slice(1)]), /not a list of operations laid out/],
      [Buffer.from(encode(original).toString('utf8').replace(/"version": \d+/, '"version": 9007199254740993')), /not a list of operations laid out/],
      [encode([{ ...original[0], logicalKey: 7 }, ...original.slice(1)]), /not a list of operations laid out/],
      [Buffer.from(encode(original).toString('utf8').replace(/\n {6}/g, '\n     ')), /not a list of operations laid out/],
      [Buffer.from(encode(original).toString('utf8').replace('"fullKey": "key', '"fullKey": "\\u006bey')), /not a list of operations laid out/],
      [encode(original).subarray(0, 50), /not a list/],
      [encode(original, ''), /not a list/],
    ];
    for (const [part, reason] of cases) expect(decodeCommitPart(headWithPart(1, part), 1, part)).toMatch(reason);
    expect(decodeCommitPart(headWithPart(1, encode(original)), 1, encode(original))).toEqual(original);
  });

  it('accepts a part after any edit of one byte exactly when a parse of it is a part the store writes, and decodes it as that parse does', () => {
    const escaped = encodeCommit(recordOf(operationsOf(700, (i) => `k\u00e9y\\${i}\u2028`))).bytes;
    const escapedHead = decodeCommitHead(escaped)!;
    /** The operations a plain parse finds in part `n`, or null when the bytes are not exactly what a writer writes for them. */
    const partByParse = (at: CommitHead, n: number, part: Buffer): CommitOperation[] | null => {
      let operations: CommitOperation[];
      try {
        operations = JSON.parse(`[${part.toString('utf8', n === 0 ? 0 : 1)}]`);
      } catch {
        return null;
      }
      const written = operations.map((op, i) => `${n === 0 && i === 0 ? '' : ','}\n    ${JSON.stringify(op, null, 2).replace(/\n/g, '\n    ')}`).join('');
      const keys = operations.map((op) => op.fullKey);
      const next = at.parts[n + 1]?.first;
      const isPart =
        Buffer.from(written).equals(part) &&
        commitRecordProblem({ ...at.record, operations }) === null &&
        operations.length === at.parts[n]!.operations &&
        keys[0] === at.parts[n]!.first &&
        keys.every((key, i) => i === 0 || keys[i - 1]! < key) &&
        (next === undefined || keys.at(-1)! < next);
      return isPart ? operations : null;
    };
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('replace', 'insert', 'delete'), (isEscaped, which, position, byte, edit) => {
        const [file, fileHead] = isEscaped ? [escaped, escapedHead] : [bytes, head];
        const n = which % fileHead.parts.length;
        const original = partBytes(file, fileHead, n);
        const at = position % original.length;
        const part =
          edit === 'replace'
            ? Buffer.concat([original.subarray(0, at), Buffer.from([byte]), original.subarray(at + 1)])
            : edit === 'insert'
              ? Buffer.concat([original.subarray(0, at), Buffer.from([byte]), original.subarray(at)])
              : Buffer.concat([original.subarray(0, at), original.subarray(at + 1)]);
        // The digest and length made to match, so that only the layout is judged.
        const edited: CommitHead = { ...fileHead, parts: fileHead.parts.map((p, i) => (i === n ? { ...p, bytes: part.length, digest: sha256(part) } : p)) };
        const expected = partByParse(edited, n, part);
        const decoded = decodeCommitPart(edited, n, part);
        if (expected === null) expect(decoded).toBeTypeOf('string');
        else expect(decoded).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses, as the record validator does, an operation numbered below 1, so a writer never writes a part it cannot read', () => {
    for (const version of [0, -1]) {
      const invalid = operationsOf(PARTS_ABOVE + 1).map((op, i) => (i === 7 ? { ...op, version } : op));
      expect(commitRecordProblem(recordOf(invalid))).toMatch(/invalid operation/);
    }
  });

  it('leaves a record that still carries parts to the validator, which refuses it', () => {
    expect(commitRecordProblem(JSON.parse(text))).toMatch(/parts/);
    expect(commitRecordProblem({ ...record, operations: [] })).toBeNull();
  });
});
