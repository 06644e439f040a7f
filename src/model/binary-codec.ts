/**
 * Binary values as tagged JSON objects (see src/model/codec.ts and
 * docs/FORMAT.md, "Serialised bytes"): every typed array, `DataView`,
 * `ArrayBuffer` and `SharedArrayBuffer` is written as the base64 of the bytes
 * it views, with elements in little-endian order whatever the host's, and is
 * read back as a new value of the same type holding the same bytes. Buffers
 * keep their own older tag, `bytes`.
 */
import { InvalidDataError } from '../errors.js';

export const TAG = '$ae';

type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

const TYPED_ARRAYS: Record<string, TypedArrayConstructor> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Whether a value is binary data this module encodes (the walk in codec.ts does not descend into it). */
export function isBinary(value: object): boolean {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer;
}

/**
 * The tagged form of a binary value, or null when `value` is not one. A
 * subclass of a typed array is refused: it would come back as its base type.
 */
export function encodeBinary(value: object, where: string): Record<string, string> | null {
  if (Buffer.isBuffer(value)) return { [TAG]: 'bytes', base64: base64Of(value, 1) };
  if (value instanceof DataView) return { [TAG]: 'dataview', base64: base64Of(value, 1) };
  if (value instanceof ArrayBuffer) return { [TAG]: 'arraybuffer', base64: Buffer.from(value).toString('base64') };
  if (value instanceof SharedArrayBuffer) return { [TAG]: 'sharedarraybuffer', base64: Buffer.from(value).toString('base64') };
  if (!ArrayBuffer.isView(value)) return null;
  const type = (value as Uint8Array)[Symbol.toStringTag];
  const ctor = TYPED_ARRAYS[type];
  if (ctor === undefined || Object.getPrototypeOf(value) !== ctor.prototype) {
    throw new InvalidDataError(`data holds a subclass of ${type} at ${where}; only the built-in typed arrays can be stored`);
  }
  return { [TAG]: 'typedarray', type, base64: base64Of(value, ctor.BYTES_PER_ELEMENT) };
}

/** The value a binary tag stands for, or undefined when `tag` is not a binary tag. */
export function decodeBinary(tag: string, record: Record<string, unknown>): unknown {
  switch (tag) {
    case 'bytes':
      return Buffer.from(String(record.base64), 'base64');
    case 'dataview':
      return new DataView(freshBuffer(record, 1));
    case 'arraybuffer':
      return freshBuffer(record, 1);
    case 'sharedarraybuffer': {
      const bytes = Buffer.from(String(record.base64), 'base64');
      const shared = new SharedArrayBuffer(bytes.length);
      new Uint8Array(shared).set(bytes);
      return shared;
    }
    case 'typedarray': {
      const ctor = Object.hasOwn(TYPED_ARRAYS, String(record.type)) ? TYPED_ARRAYS[String(record.type)]! : undefined;
      if (ctor === undefined) throw new InvalidDataError(`stored data names an unknown typed array ${JSON.stringify(record.type)}`);
      return new ctor(freshBuffer(record, ctor.BYTES_PER_ELEMENT));
    }
    default:
      return undefined;
  }
}

/** Base64 of the bytes a view covers, elements little-endian. */
function base64Of(view: ArrayBufferView, elementSize: number): string {
  const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return (IS_LITTLE_ENDIAN || elementSize === 1 ? bytes : swapped(bytes, elementSize)).toString('base64');
}

/** A new ArrayBuffer (aligned for any element type) holding the decoded bytes in host order. */
function freshBuffer(record: Record<string, unknown>, elementSize: number): ArrayBuffer {
  const bytes = Buffer.from(String(record.base64), 'base64');
  if (bytes.length % elementSize !== 0) {
    throw new InvalidDataError(`stored ${String(record.type ?? 'binary')} data has ${bytes.length} bytes, not a multiple of ${elementSize}`);
  }
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(IS_LITTLE_ENDIAN || elementSize === 1 ? bytes : swapped(bytes, elementSize));
  return buffer;
}

function swapped(bytes: Buffer, elementSize: number): Buffer {
  const copy = Buffer.from(bytes);
  for (let i = 0; i < copy.length; i += elementSize) copy.subarray(i, i + elementSize).reverse();
  return copy;
}
