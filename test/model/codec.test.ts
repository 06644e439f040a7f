import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidDataError } from '../../src/errors.js';
import { deserialize, MAX_DEPTH, serialize } from '../../src/model/codec.js';

describe('data codec', () => {
  it('round-trips any JSON value exactly', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(deserialize(serialize(value))).toStrictEqual(value);
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

  const binaries = (): Record<string, unknown> => {
    const offset = new Uint8Array([9, 9, 1, 2, 3, 4, 9]);
    const shared = new SharedArrayBuffer(3);
    new Uint8Array(shared).set([5, 6, 7]);
    return {
      Int8Array: new Int8Array([-128, 0, 127]),
      Uint8Array: new Uint8Array([0, 1, 255]),
      Uint8ClampedArray: new Uint8ClampedArray([0, 128, 255]),
      Int16Array: new Int16Array([-32768, 1, 32767]),
      Uint16Array: new Uint16Array([0, 258, 65535]),
      Int32Array: new Int32Array([-2147483648, 16909060, 2147483647]),
      Uint32Array: new Uint32Array([0, 4294967295]),
      Float32Array: new Float32Array([1.5, -0, Number.NaN, Number.POSITIVE_INFINITY]),
      Float64Array: new Float64Array([Math.PI, -0, Number.NEGATIVE_INFINITY]),
      BigInt64Array: new BigInt64Array([-(2n ** 63n), 1n, 2n ** 63n - 1n]),
      BigUint64Array: new BigUint64Array([0n, 2n ** 64n - 1n]),
      DataView: new DataView(offset.buffer, 2, 4),
      ArrayBuffer: offset.buffer.slice(2, 6),
      SharedArrayBuffer: shared,
      Buffer: Buffer.from([1, 2]),
    };
  };

  it('round-trips every typed array, DataView, ArrayBuffer and SharedArrayBuffer as the same type with the same bytes, at any depth', () => {
    const value = { top: binaries(), deep: { list: [[binaries()]] } };
    const back = deserialize(serialize(value)) as typeof value;
    for (const sample of [back.top, (back.deep.list[0]![0] as Record<string, unknown>)]) {
      for (const [type, original] of Object.entries(binaries())) {
        const copy = sample[type] as ArrayBufferView | ArrayBuffer;
        expect(Object.getPrototypeOf(copy)).toBe(Object.getPrototypeOf(original));
        const bytesOf = (v: ArrayBufferView | ArrayBuffer) =>
          ArrayBuffer.isView(v) ? [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)] : [...new Uint8Array(v)];
        expect(bytesOf(copy)).toEqual(bytesOf(original as ArrayBufferView | ArrayBuffer));
      }
    }
  });

  it('writes typed array elements little-endian, as FORMAT.md documents', () => {
    expect(JSON.parse(serialize(new Uint16Array([258])).toString())).toEqual({ $ae: 'typedarray', type: 'Uint16Array', base64: 'AgE=' });
  });

  it('round-trips -0, alone and nested, and keeps 0 as plain JSON', () => {
    expect(Object.is(deserialize(serialize(-0)), -0)).toBe(true);
    const back = deserialize(serialize({ a: [-0, 0] })) as { a: number[] };
    expect(Object.is(back.a[0], -0) && Object.is(back.a[1], 0)).toBe(true);
    expect(serialize({ a: 0 }).toString()).toBe('{"a":0}');
  });

  it.each([
    ['an object with toJSON', { doc: { toJSON: () => 'other' } }, 'toJSON'],
    ['a symbol-keyed member', { doc: { [Symbol('k')]: 1, a: 1 } }, 'symbol-keyed member'],
    ['an array with a non-index property', { list: Object.assign([1, 2], { extra: true }) }, 'non-index property "extra"'],
    ['a typed array subclass', { v: new (class Bytes extends Uint8Array {})(2) }, 'subclass of Uint8Array'],
  ])('refuses %s instead of dropping or changing it', (_name, value, message) => {
    expect(() => serialize(value)).toThrow(InvalidDataError);
    expect(() => serialize(value)).toThrow(message);
  });
});
