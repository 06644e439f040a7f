import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeDigestedRecord, encodeRecord, splitDigest } from '../../src/model/records.js';

const record = {
  format: 1,
  fullKey: 'spec_2026-12-01T10:00:00.000Z',
  logicalKey: 'spec',
  timestamp: '2026-12-01T10:00:00.000Z',
  version: 3,
  checksum: 'a'.repeat(64),
  compressed: true,
  size: 1223,
  tags: { phase: 'ünïcödé ✓' },
  source: 'test',
  created: '2026-12-01T10:00:00.000Z',
  commit: '2026-12-01T10-00-00.001Z_0123456789abcdef',
};

/** What a reader of `bytes` concludes, the fast way (with the bytes) and the long way (the parsed record alone). */
function readBothWays(bytes: Buffer): [boolean | null, boolean | null] {
  const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
  return [splitDigest(parsed, bytes).isIntact, splitDigest(parsed).isIntact];
}

describe('record digests', () => {
  it('are found intact, read from the bytes written, with the record split from its digest', () => {
    const bytes = encodeDigestedRecord(record);
    expect(readBothWays(bytes)).toEqual([true, true]);
    expect(splitDigest(JSON.parse(bytes.toString('utf8')), bytes).record).toEqual(record);
  });

  it('refuse every flipped bit of a record written, read either way', () => {
    const bytes = encodeDigestedRecord(record);
    fc.assert(
      fc.property(fc.nat(bytes.length * 8 - 1), (bit) => {
        const flipped = Buffer.from(bytes);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        let parsed: unknown;
        try {
          parsed = JSON.parse(flipped.toString('utf8'));
        } catch {
          return; // Not JSON any more: refused before the digest is looked at.
        }
        const { record: read, isIntact } = splitDigest(parsed, flipped);
        // Intact only where the flip changed nothing a reader sees (a JSON-equivalent escape, say).
        if (isIntact === true) expect(encodeRecord(read as object)).toEqual(encodeRecord(record));
        else expect(isIntact === false || isIntact === null).toBe(true);
        expect(isIntact).toBe(splitDigest(parsed).isIntact);
      }),
      { numRuns: 2000 },
    );
  });

  it('check a record laid out another way (compact JSON) against its encoding, as before', () => {
    const written = JSON.parse(encodeDigestedRecord(record).toString('utf8')) as object;
    const compact = Buffer.from(JSON.stringify(written));
    expect(readBothWays(compact)).toEqual([true, true]);
    const edited = Buffer.from(JSON.stringify({ ...written, version: 4 }));
    expect(readBothWays(edited)).toEqual([false, false]);
  });
});
