/**
 * Binary values as the original implementation wrote them into its database
 * file: `{"__ae_type": "TypedArray", "name": "Uint16Array", "values": [...]}`,
 * and `{"__ae_type": "DataView" | "ArrayBuffer" | "SharedArrayBuffer",
 * "bytes": [...]}`. The original revived them when it loaded the file, so an
 * import does the same; anything that is not exactly such a marker stays
 * data as it is. A JSON backup file is written with the same markers
 * (`stringifyBackup`), so binary data survives the file and the original
 * reads it back too. BigInt64Array and BigUint64Array values are written as
 * decimal strings, and the float elements JSON has no number for (NaN,
 * Infinity, -Infinity, -0) as those words; both readers convert them back.
 */
import { MAX_DEPTH } from './codec.js';

/** Builds a typed array from a marker's element list. */
type FromElements = (values: unknown[]) => ArrayBufferView;

const fromNumbers =
  (ctor: { from(values: ArrayLike<number>): ArrayBufferView }): FromElements =>
  (values) =>
    ctor.from((values as Array<number | string>).map(Number));

const TYPED_ARRAYS: Record<string, FromElements> = {
  Int8Array: fromNumbers(Int8Array),
  Uint8Array: fromNumbers(Uint8Array),
  Uint8ClampedArray: fromNumbers(Uint8ClampedArray),
  Int16Array: fromNumbers(Int16Array),
  Uint16Array: fromNumbers(Uint16Array),
  Int32Array: fromNumbers(Int32Array),
  Uint32Array: fromNumbers(Uint32Array),
  Float32Array: fromNumbers(Float32Array),
  Float64Array: fromNumbers(Float64Array),
  BigInt64Array: (values) => BigInt64Array.from(values, (v) => BigInt(v as string)),
  BigUint64Array: (values) => BigUint64Array.from(values, (v) => BigInt(v as string)),
};

/** `data` with every marker of the original's serialisation replaced by the value it stands for. */
export function reviveLegacyValues(data: unknown, depth = 0): unknown {
  // Deeper data is refused by the codec afterwards; never recurse past its limit.
  if (data === null || typeof data !== 'object' || depth > MAX_DEPTH) return data;
  if (Array.isArray(data)) return data.map((item) => reviveLegacyValues(item, depth + 1));
  // Only plain objects can be markers or hold them; binary values, Dates and the like stay as they are.
  const proto = Object.getPrototypeOf(data);
  if (proto !== Object.prototype && proto !== null) return data;
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
      const build = typeof record.name === 'string' && Object.hasOwn(TYPED_ARRAYS, record.name) ? TYPED_ARRAYS[record.name] : undefined;
      if (keys.length !== 3 || build === undefined || !isElementList(record.values, String(record.name))) return undefined;
      return build(record.values);
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

/** Float elements JSON has no number for, written as the words Number() reads back. */
const FLOAT_WORDS = new Set(['NaN', 'Infinity', '-Infinity', '-0']);

function isElementList(value: unknown, type: string): value is unknown[] {
  if (!Array.isArray(value)) return false;
  if (type.startsWith('Big')) return value.every((v) => typeof v === 'string' && /^-?\d+$/.test(v));
  if (type.startsWith('Float')) return value.every((v) => typeof v === 'number' || (typeof v === 'string' && FLOAT_WORDS.has(v)));
  return value.every((v) => typeof v === 'number');
}

function legacyElement(v: number | bigint): number | string {
  if (typeof v === 'bigint') return v.toString();
  if (Object.is(v, -0)) return '-0';
  return Number.isFinite(v) ? v : String(v);
}

/**
 * JSON text as the original wrote it: binary values as its markers. Its
 * checksums are of this text, so `legacyChecksum` hashes it too.
 */
export function toLegacyJson(value: unknown, indent?: number): string | undefined {
  return JSON.stringify(value, legacyMarkerReplacer, indent);
}

/** A backup file's text (see the module comment). */
export function stringifyBackup(state: unknown): string {
  return toLegacyJson(state, 2)!;
}

function legacyMarkerReplacer(this: unknown, key: string, value: unknown): unknown {
  // The holder still has the value before toJSON (a Buffer keeps its own {type, data} form).
  const raw = (this as Record<string, unknown>)[key];
  if (raw === null || typeof raw !== 'object' || Buffer.isBuffer(raw)) return value;
  if (raw instanceof DataView) return { __ae_type: 'DataView', bytes: [...new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)] };
  if (raw instanceof ArrayBuffer || raw instanceof SharedArrayBuffer) {
    return { __ae_type: raw instanceof ArrayBuffer ? 'ArrayBuffer' : 'SharedArrayBuffer', bytes: [...new Uint8Array(raw)] };
  }
  if (ArrayBuffer.isView(raw)) {
    const name = (raw as Uint8Array)[Symbol.toStringTag];
    const values = Array.from(raw as unknown as ArrayLike<number | bigint>, legacyElement);
    return { __ae_type: 'TypedArray', name, values };
  }
  return value;
}

function isByteList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
}
