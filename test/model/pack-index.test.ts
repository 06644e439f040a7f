import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePackIndex, encodePackIndex, packHeader, packHeaderProblem } from '../../src/model/pack-index.js';

const hex = (seed: string) => createHash('sha256').update(seed).digest('hex');

describe('pack index codec', () => {
  it('decodes what it encodes, sorted by checksum, whatever the order given', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 40 }), fc.nat(1000), (seeds, gap) => {
        let offset = 8;
        const entries = seeds.map((seed, i) => {
          const entry = { checksum: hex(seed), offset, length: i + 1 };
          offset += i + 1 + gap;
          return entry;
        });
        const decoded = decodePackIndex(encodePackIndex(hex('pack'), entries), offset);
        expect(decoded).toEqual({ packHash: hex('pack'), entries: [...entries].sort((a, b) => (a.checksum < b.checksum ? -1 : 1)) });
      }),
    );
  });

  it('is 76 bytes plus 48 per object', () => {
    expect(encodePackIndex(hex('p'), [{ checksum: hex('a'), offset: 8, length: 3 }])).toHaveLength(76 + 48);
  });

  it('refuses any flipped bit, a truncation, or an entry outside its pack', () => {
    const bytes = encodePackIndex(hex('p'), [{ checksum: hex('a'), offset: 8, length: 10 }, { checksum: hex('b'), offset: 18, length: 5 }]);
    for (let at = 0; at < bytes.length; at++) {
      const flipped = Buffer.from(bytes);
      flipped[at]! ^= 0x10;
      expect(typeof decodePackIndex(flipped, 23)).toBe('string');
    }
    expect(typeof decodePackIndex(bytes.subarray(0, bytes.length - 1), 23)).toBe('string');
    expect(decodePackIndex(bytes, 22)).toMatch(/outside its pack/);
  });

  it('knows a pack by its magic and version', () => {
    expect(packHeaderProblem(packHeader())).toBeNull();
    expect(packHeaderProblem(Buffer.from('AEPK\0\0\0\x02'))).toMatch(/version 2/);
    expect(packHeaderProblem(Buffer.from('{"a":1}'))).toMatch(/not a pack/);
  });
});
