import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { reviveLegacyValues, stringifyBackup } from '../../src/model/legacy-values.js';
import { tempProject } from '../helpers.js';

function binaryDoc() {
  const sharedBuffer = new SharedArrayBuffer(2);
  new Uint8Array(sharedBuffer).set([7, 8]);
  return {
    name: 'signals',
    i8: new Int8Array([-1, 2]),
    u8: new Uint8Array([255]),
    c8: new Uint8ClampedArray([9]),
    i16: new Int16Array([-300]),
    u16: new Uint16Array([65535]),
    i32: new Int32Array([-70000]),
    u32: new Uint32Array([4000000000]),
    f32: new Float32Array([0.5]),
    f64: new Float64Array([Math.E]),
    bi: new BigInt64Array([-(2n ** 62n)]),
    bu: new BigUint64Array([2n ** 64n - 1n]),
    view: new DataView(new Uint8Array([1, 2, 3]).buffer, 1, 2),
    raw: new Uint8Array([4, 5]).buffer,
    sharedBuffer,
    nested: [{ deep: new Uint16Array([1, 2]) }],
  };
}

/** The bytes of each buffer-like member, so the comparison never depends on how a matcher treats them. */
function bytesOf(doc: Record<string, unknown>): Record<string, [string, number[]]> {
  const out: Record<string, [string, number[]]> = {};
  for (const name of ['view', 'raw', 'sharedBuffer']) {
    const v = doc[name] as DataView | ArrayBuffer | SharedArrayBuffer;
    const bytes = v instanceof DataView ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v);
    out[name] = [Object.prototype.toString.call(v), [...bytes]];
  }
  return out;
}

async function managerIn() {
  return new EnhancedStateManager(await tempProject(), { gcInterval: 0, recordGitProvenance: false });
}

describe('binary data in JSON backups', () => {
  it('survives a backup written to a JSON file and imported again, every binary type as itself', async () => {
    const source = await managerIn();
    await source.saveSSOT('signals', binaryDoc());
    const file = stringifyBackup(await source.exportState());
    const target = await managerIn();
    await target.importState(JSON.parse(file));
    const loaded = (await target.loadSSOT('signals')) as Record<string, unknown>;
    expect(loaded).toEqual(binaryDoc());
    expect(bytesOf(loaded)).toEqual(bytesOf(binaryDoc()));
    await Promise.all([source.shutdown(), target.shutdown()]);
  });

  it('writes them as the markers the original reads back', () => {
    const text = stringifyBackup({ v: new Uint16Array([1, 2]), b: new BigInt64Array([5n]), d: new DataView(new ArrayBuffer(1)) });
    expect(JSON.parse(text)).toEqual({
      v: { __ae_type: 'TypedArray', name: 'Uint16Array', values: [1, 2] },
      b: { __ae_type: 'TypedArray', name: 'BigInt64Array', values: ['5'] },
      d: { __ae_type: 'DataView', bytes: [0] },
    });
  });

  it('keeps the float elements JSON has no number for (NaN, infinities, -0) through a JSON file', async () => {
    const floats = { f64: new Float64Array([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1.5]), f32: new Float32Array([Number.NaN, -0]) };
    expect(JSON.parse(stringifyBackup(floats)).f64.values).toEqual(['NaN', 'Infinity', '-Infinity', '-0', 1.5]);
    const source = await managerIn();
    await source.saveSSOT('floats', floats);
    const target = await managerIn();
    await target.importState(JSON.parse(stringifyBackup(await source.exportState())));
    const loaded = (await target.loadSSOT('floats')) as typeof floats;
    expect(loaded.f64).toBeInstanceOf(Float64Array);
    expect(loaded.f32).toBeInstanceOf(Float32Array);
    expect(new Uint8Array(loaded.f64.buffer, loaded.f64.byteOffset, loaded.f64.byteLength)).toEqual(new Uint8Array(floats.f64.buffer));
    expect(new Uint8Array(loaded.f32.buffer, loaded.f32.byteOffset, loaded.f32.byteLength)).toEqual(new Uint8Array(floats.f32.buffer));
    await Promise.all([source.shutdown(), target.shutdown()]);
  });

  it('survives exportState and importState in memory', async () => {
    const source = await managerIn();
    await source.saveSSOT('signals', binaryDoc());
    const target = await managerIn();
    await target.importState(await source.exportState());
    const loaded = (await target.loadSSOT('signals')) as Record<string, unknown>;
    expect(loaded).toEqual(binaryDoc());
    expect(bytesOf(loaded)).toEqual(bytesOf(binaryDoc()));
    await Promise.all([source.shutdown(), target.shutdown()]);
  });

  it('leaves objects that are not exactly markers as data', () => {
    const data = { a: { __ae_type: 'TypedArray', name: 'Nope', values: [1] }, b: { __ae_type: 'ArrayBuffer', bytes: [300] }, c: { __ae_type: 'DataView', bytes: [1], extra: 1 } };
    expect(reviveLegacyValues(data)).toEqual(data);
  });
});
