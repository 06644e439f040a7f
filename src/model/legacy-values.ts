/**
 * Binary values as the original implementation wrote them into its database
 * file: `{"__ae_type": "TypedArray", "name": "Uint16Array", "values": [...]}`,
 * and `{"__ae_type": "DataView" | "ArrayBuffer" | "SharedArrayBuffer",
 * "bytes": [...]}`. The original revived them when it loaded the file, so an
 * import does the same; anything that is not exactly such a marker stays
 * data as it is.
 */
import { MAX_DEPTH } from './codec.js';

const TYPED_ARRAYS: Record<string, { from(values: ArrayLike<number>): ArrayBufferView }> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
};

/** `data` with every marker of the original's serialisation replaced by the value it stands for. */
export function reviveLegacyValues(data: unknown, depth = 0): unknown {
  // Deeper data is refused by the codec afterwards; never recurse past its limit.
  if (data === null || typeof data !== 'object' || depth > MAX_DEPTH || ArrayBuffer.isView(data)) return data;
  if (Array.isArray(data)) return data.map((item) => reviveLegacyValues(item, depth + 1));
  const revived = reviveMarker(data as Record<string, unknown>);
  if (revived !== undefined) return revived;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(data)) {
    // defineProperty keeps a "__proto__" member as data.
    Object.defineProperty(out, name, { value: reviveLegacyValues(value, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function reviveMarker(record: Record<string, unknown>): unknown {
  const keys = Object.keys(record);
  switch (record.__ae_type) {
    case 'TypedArray': {
      const ctor = typeof record.name === 'string' && Object.hasOwn(TYPED_ARRAYS, record.name) ? TYPED_ARRAYS[record.name] : undefined;
      if (keys.length !== 3 || ctor === undefined || !isNumberList(record.values)) return undefined;
      return ctor.from(record.values);
    }
    case 'DataView':
    case 'ArrayBuffer':
    case 'SharedArrayBuffer': {
      if (keys.length !== 2 || !isByteList(record.bytes)) return undefined;
      const buffer = record.__ae_type === 'SharedArrayBuffer' ? new SharedArrayBuffer(record.bytes.length) : new ArrayBuffer(record.bytes.length);
      new Uint8Array(buffer).set(record.bytes);
      return record.__ae_type === 'DataView' ? new DataView(buffer) : buffer;
    }
    default:
      return undefined;
  }
}

function isNumberList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number');
}

function isByteList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
}
