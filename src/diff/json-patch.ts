/**
 * JSON Patch (RFC 6902) and JSON Pointer (RFC 6901), the small part a diff
 * needs: applying a patch to a copy of a document while noting what each
 * operation replaced, so that every diff is checked (applying it to `from`
 * must give `to`) and can be shown with the values it removes. Pure.
 */

export type PatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: unknown };

/** One applied operation with the value it took away (remove, replace, move). */
export interface AppliedOperation {
  operation: PatchOperation;
  previous?: unknown;
}

export class PatchError extends Error {
  override name = 'PatchError';
}

/** `/a~1b/0` → `['a/b', '0']`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`JSON pointer ${JSON.stringify(pointer)} must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function formatPointer(tokens: readonly string[]): string {
  return tokens.map((t) => `/${t.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** The value a pointer names, or undefined. */
export function valueAt(document: unknown, pointer: string): unknown {
  let node = document;
  for (const token of parsePointer(pointer)) {
    if (node === null || typeof node !== 'object') return undefined;
    if (Array.isArray(node)) node = /^(0|[1-9]\d*)$/.test(token) ? node[Number(token)] : undefined;
    else node = Object.hasOwn(node, token) ? (node as Record<string, unknown>)[token] : undefined;
  }
  return node;
}

/** Applies a patch to a deep copy of `document`; the input is not changed. */
export function applyPatch(document: unknown, patch: readonly PatchOperation[]): { result: unknown; applied: AppliedOperation[] } {
  let result = structuredClone(document);
  const applied: AppliedOperation[] = [];
  for (const operation of patch) {
    const step = applyOperation(result, operation);
    result = step.document;
    applied.push(step.previous === NONE ? { operation } : { operation, previous: step.previous });
  }
  return { result, applied };
}

const NONE = Symbol('none');

function applyOperation(document: unknown, op: PatchOperation): { document: unknown; previous: unknown } {
  switch (op.op) {
    case 'add':
      return { document: insert(document, op.path, structuredClone(op.value)), previous: NONE };
    case 'remove': {
      const previous = requireValue(document, op.path);
      return { document: removeAt(document, op.path), previous };
    }
    case 'replace': {
      const previous = requireValue(document, op.path);
      return { document: insert(removeAt(document, op.path), op.path, structuredClone(op.value)), previous };
    }
    case 'move': {
      const value = requireValue(document, op.from);
      return { document: insert(removeAt(document, op.from), op.path, value), previous: value };
    }
    case 'copy':
      return { document: insert(document, op.path, structuredClone(requireValue(document, op.from))), previous: NONE };
    case 'test':
      if (!isDeepEqual(requireValue(document, op.path), op.value)) throw new PatchError(`test failed at ${op.path}`);
      return { document, previous: NONE };
    default:
      throw new PatchError(`unknown patch operation ${JSON.stringify((op as { op: unknown }).op)}`);
  }
}

function requireValue(document: unknown, pointer: string): unknown {
  const value = valueAt(document, pointer);
  if (value === undefined) throw new PatchError(`nothing at ${JSON.stringify(pointer)}`);
  return value;
}

function insert(document: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const parent = valueAt(document, formatPointer(tokens.slice(0, -1)));
  const last = tokens.at(-1)!;
  if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : arrayIndex(last, parent.length), 0, value);
  // defineProperty, not assignment: a member named "__proto__" must stay a member.
  else if (parent !== null && typeof parent === 'object') Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
  else throw new PatchError(`no container at ${JSON.stringify(pointer)}`);
  return document;
}

function removeAt(document: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return undefined;
  const parent = valueAt(document, formatPointer(tokens.slice(0, -1)));
  const last = tokens.at(-1)!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length - 1), 1);
  else if (parent !== null && typeof parent === 'object' && Object.hasOwn(parent, last)) delete (parent as Record<string, unknown>)[last];
  else throw new PatchError(`nothing to remove at ${JSON.stringify(pointer)}`);
  return document;
}

function arrayIndex(token: string, max: number): number {
  if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) > max) throw new PatchError(`array index ${JSON.stringify(token)} is out of range`);
  return Number(token);
}

/** Structural equality of JSON values; object member order does not matter. */
export function isDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => isDeepEqual(item, other[i]));
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && isDeepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
