import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidDataError } from '../../src/errors.js';
import { deserialize, MAX_DEPTH, serialize } from '../../src/model/codec.js';

describe('data codec', () => {
  it('round-trips any JSON value exactly', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // JSON itself turns -0 into 0; that is the one change a JSON store makes.
        const normalised = JSON.parse(JSON.stringify(value));
        expect(deserialize(serialize(normalised))).toStrictEqual(normalised);
      }),
      { numRuns: 500 },
    );
  });

  it('hashes a plain JSON document as sha256 of its compact form, like the original database', () => {
    const doc = { id: 'ready', name: 'true' };
    const checksum = createHash('sha256').update(serialize(doc)).digest('hex');
    expect(checksum).toBe('0094478148422a83dc50a368102314e8ddf937293f6679096c4b66f5d989afcb');
  });

  it('round-trips Buffers, Uint8Arrays and Dates, nested anywhere', () => {
    const value = { when: new Date('2025-01-20T10:00:00.123Z'), blob: Buffer.from([0, 1, 255]), list: [new Uint8Array([7, 8])] };
    const back = deserialize(serialize(value)) as typeof value;
    expect(back.when).toBeInstanceOf(Date);
    expect(back.when.toISOString()).toBe('2025-01-20T10:00:00.123Z');
    expect(Buffer.isBuffer(back.blob)).toBe(true);
    expect([...back.blob]).toEqual([0, 1, 255]);
    expect([...back.list[0]!]).toEqual([7, 8]);
  });

  it('keeps user objects that use the "$ae" member themselves', () => {
    const tricky = { $ae: 'date', iso: 'not a date', inner: { $ae: 'bytes', base64: 'AAAA' } };
    expect(deserialize(serialize(tricky))).toStrictEqual(tricky);
  });

  it('keeps a "__proto__" member as data without touching prototypes', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"$ae":1}');
    const back = deserialize(serialize(value)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['undefined', undefined, 'undefined'],
    ['a function', { f: () => 1 }, 'function'],
    ['a symbol', { s: Symbol('x') }, 'symbol'],
    ['a bigint', { n: 10n }, 'bigint'],
    ['NaN', { n: Number.NaN }, 'NaN'],
    ['Infinity', [Number.POSITIVE_INFINITY], 'Infinity'],
    ['undefined in an array', [1, undefined], 'undefined in an array'],
    ['a Map', { m: new Map() }, 'Map instance'],
    ['an invalid Date', { d: new Date('nope') }, 'invalid Date'],
  ])('refuses %s with a clear error', (_name, value, message) => {
    expect(() => serialize(value)).toThrow(InvalidDataError);
    expect(() => serialize(value)).toThrow(message);
  });

  it('refuses circular data', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(() => serialize(a)).toThrow(/circular/);
  });

  it('refuses nesting deeper than the limit, even 100,000 levels', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => serialize(deep)).toThrow(/nested more than 1000/);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_DEPTH - 1; i++) ok = { a: ok };
    expect(() => serialize(ok)).not.toThrow();
  });

  it('stores shared sub-objects (not cycles) normally', () => {
    const shared = { x: 1 };
    expect(deserialize(serialize({ a: shared, b: shared }))).toStrictEqual({ a: { x: 1 }, b: { x: 1 } });
  });
});
