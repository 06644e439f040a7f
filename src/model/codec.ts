/**
 * Serialisation of user data to the exact bytes that are hashed and stored.
 *
 * Plain JSON values are written with `JSON.stringify` (no whitespace), so a
 * JSON document's checksum is the sha256 of its compact form, the same as the
 * original single-file database computed. Values JSON cannot carry are
 * written as tagged objects whose `$ae` member names the type:
 *
 *   Buffer              → {"$ae":"bytes","base64":"…"}
 *   other binary values → {"$ae":"typedarray"|"dataview"|"arraybuffer"|
 *                          "sharedarraybuffer", …}   (src/model/binary-codec.ts)
 *   Date                → {"$ae":"date","iso":"…"}
 *   -0                  → {"$ae":"number","value":"-0"}
 *   an object that itself has a "$ae" member
 *                       → {"$ae":"object","entries":[[name, value], …]}
 *
 * The last rule keeps user objects that happen to use `$ae` from being
 * mistaken for tags. Everything else that JSON would silently change is
 * refused (functions, symbols, bigints, NaN and infinities, `undefined` in
 * arrays, class instances, objects with their own `toJSON`, symbol-keyed
 * members, array properties that are not indices, cycles, nesting deeper
 * than MAX_DEPTH). Object members whose value is `undefined` are omitted,
 * as JSON does.
 */
import { InvalidDataError } from '../errors.js';
import { decodeBinary, encodeBinary, isBinary, TAG } from './binary-codec.js';

export const MAX_DEPTH = 1000;

const TAG_NEEDLE = '"$ae"';

export function serialize(value: unknown): Buffer {
  if (value === undefined) throw new InvalidDataError('data is undefined; store null or a JSON value instead');
  const isPlainJson = inspect(value);
  let text: string | undefined;
  try {
    // Plain JSON (the common case) takes the native path; only data with
    // values JSON cannot carry pays for the replacer.
    text = isPlainJson ? JSON.stringify(value) : JSON.stringify(value, replacer);
  } catch (error) {
    if (error instanceof InvalidDataError) throw error;
    if (error instanceof TypeError && /circular/i.test(error.message)) {
      throw new InvalidDataError('data is circular (an object contains itself)');
    }
    if (error instanceof RangeError) throw new InvalidDataError(`data is nested too deeply (limit ${MAX_DEPTH} levels)`);
    throw new InvalidDataError(`data cannot be serialised: ${(error as Error).message}`);
  }
  if (text === undefined) throw new InvalidDataError(`data of type ${typeof value} cannot be stored`);
  return Buffer.from(text, 'utf8');
}

export function deserialize(bytes: Buffer | string): unknown {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  // Fast path: documents without tags parse with no reviver at all.
  return text.includes(TAG_NEEDLE) ? JSON.parse(text, reviver) : JSON.parse(text);
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  // JSON.stringify has already applied toJSON (Date → string, Buffer → {type,data});
  // the holder still has the original value.
  const raw = (this as Record<string, unknown>)[key];
  switch (typeof raw) {
    case 'string':
    case 'boolean':
      return raw;
    case 'number':
      if (!Number.isFinite(raw)) throw new InvalidDataError(`data holds ${raw} at ${describe(key)}, which JSON cannot represent`);
      // JSON would write -0 as 0.
      return Object.is(raw, -0) ? { [TAG]: 'number', value: '-0' } : raw;
    case 'undefined':
      if (Array.isArray(this)) throw new InvalidDataError(`data holds undefined in an array at index ${key}`);
      return undefined;
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new InvalidDataError(`data holds a ${typeof raw} at ${describe(key)}, which cannot be stored`);
    default:
      break;
  }
  if (raw === null) return null;
  if (raw instanceof Date) {
    if (Number.isNaN(raw.getTime())) throw new InvalidDataError(`data holds an invalid Date at ${describe(key)}`);
    return { [TAG]: 'date', iso: raw.toISOString() };
  }
  const binary = encodeBinary(raw as object, describe(key));
  if (binary !== null) return binary;
  refuseWhatJsonWouldDrop(raw as object, key);
  if (Array.isArray(raw)) return raw;
  const proto = Object.getPrototypeOf(raw);
  if (proto !== Object.prototype && proto !== null) {
    const name = (raw as object).constructor?.name ?? 'unknown';
    throw new InvalidDataError(`data holds a ${name} instance at ${describe(key)}; only plain objects, arrays, Dates and binary data can be stored`);
  }
  if (Object.hasOwn(raw as object, TAG)) {
    // The pairs are arrays, so the replacer never escapes the wrapper again.
    return { [TAG]: 'object', entries: Object.entries(raw as object) };
  }
  return value;
}

/**
 * JSON.stringify would call an own `toJSON` and store its result, and would
 * drop symbol-keyed members and array properties that are not indices: all
 * of them are refused rather than lost.
 */
function refuseWhatJsonWouldDrop(raw: object, key: string): void {
  if (typeof (raw as { toJSON?: unknown }).toJSON === 'function') {
    throw new InvalidDataError(`data holds an object with a toJSON method at ${describe(key)}; store the value toJSON returns instead`);
  }
  const symbol = Object.getOwnPropertySymbols(raw).find((s) => Object.prototype.propertyIsEnumerable.call(raw, s));
  if (symbol !== undefined) throw new InvalidDataError(`data holds the symbol-keyed member ${String(symbol)} at ${describe(key)}, which cannot be stored`);
  if (Array.isArray(raw)) {
    const extra = Object.keys(raw).find((name) => !isArrayIndex(name, raw.length));
    if (extra !== undefined) {
      throw new InvalidDataError(`data holds an array with the non-index property ${JSON.stringify(extra)} at ${describe(key)}, which JSON would drop`);
    }
  }
}

function isArrayIndex(name: string, length: number): boolean {
  const index = Number(name);
  return Number.isSafeInteger(index) && index >= 0 && index < length && String(index) === name;
}

function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const tag = (value as Record<string, unknown>)[TAG];
  if (typeof tag !== 'string') return value;
  const record = value as Record<string, unknown>;
  switch (tag) {
    case 'date':
      return new Date(String(record.iso));
    case 'number':
      return record.value === '-0' ? -0 : value;
    case 'object': {
      // Object.fromEntries defines own properties, so a "__proto__" member
      // stays data and never changes the prototype.
      return Object.fromEntries(record.entries as Array<[string, unknown]>);
    }
    default: {
      const binary = decodeBinary(tag, record);
      return binary === undefined ? value : binary;
    }
  }
}

/**
 * One iterative walk before serialising: refuses nesting deeper than
 * MAX_DEPTH up front (JSON.stringify recurses on the native stack, and a
 * 100,000-level document would only fail deep inside it), and answers whether
 * the value is plain JSON that needs no replacer. Any value the replacer has
 * to look at (or refuse) makes the answer false.
 */
function inspect(root: unknown): boolean {
  if (root === null || typeof root !== 'object') return isPlainScalar(root);
  let plain = true;
  // Each object is walked once: shared sub-objects cost nothing twice, and a
  // cycle ends the walk so that JSON.stringify can report it by name.
  const seen = new Set<object>();
  const stack: Array<[object, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_DEPTH) throw new InvalidDataError(`data is nested more than ${MAX_DEPTH} levels deep`);
    if (seen.has(node)) {
      plain = false;
      continue;
    }
    seen.add(node);
    if (isBinary(node) || node instanceof Date) {
      plain = false;
      continue;
    }
    const isArray = Array.isArray(node);
    if (!isArray) {
      const proto = Object.getPrototypeOf(node);
      if ((proto !== Object.prototype && proto !== null) || Object.hasOwn(node, TAG)) plain = false;
    }
    const values = isArray ? node : Object.values(node);
    for (let i = 0; i < values.length; i++) {
      const child: unknown = values[i];
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
      else if (!isPlainScalar(child) || (isArray && child === undefined)) plain = false;
    }
    // Symbol-keyed members and sparse arrays are left to the replacer's rules.
    if (isArray ? values.length !== Object.keys(node).length : Object.getOwnPropertySymbols(node).length > 0) plain = false;
  }
  return plain;
}

function isPlainScalar(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    default:
      return value === null;
  }
}

function describe(key: string): string {
  return key === '' ? 'the top level' : `key ${JSON.stringify(key)}`;
}

/**
 * Throws `InvalidDataError` when JSON text nests deeper than MAX_DEPTH. A
 * scan of the text, without recursion: for text from outside the store
 * (imports), checked before anything parses it with a reviver or walks it.
 */
export function assertTextDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DEPTH) throw new InvalidDataError(`data is nested more than ${MAX_DEPTH} levels deep`);
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
}

/** Throws `InvalidDataError` when a value nests deeper than MAX_DEPTH; iterative, so it never overflows the stack. */
export function assertValueDepth(value: unknown): void {
  inspect(value);
}
