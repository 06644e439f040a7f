import { describe, expect, it } from 'vitest';
import { applyPatch, formatPointer, parsePointer, PatchError, valueAt } from '../../src/diff/json-patch.js';

describe('JSON Pointer and JSON Patch helpers', () => {
  it('round-trips pointer tokens holding "/" and "~"', () => {
    expect(parsePointer('/a~1b/~0c/0')).toEqual(['a/b', '~c', '0']);
    expect(formatPointer(['a/b', '~c', '0'])).toBe('/a~1b/~0c/0');
    expect(parsePointer('')).toEqual([]);
    expect(valueAt({ 'a/b': [1, { c: 2 }] }, '/a~1b/1/c')).toBe(2);
    expect(valueAt([1], '/01')).toBeUndefined();
  });

  it('applies add, remove, replace, move, copy and test without changing its input', () => {
    const input = { list: [1, 2, 3], obj: { a: 1 } };
    const { result, applied } = applyPatch(input, [
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'remove', path: '/list/0' },
      { op: 'replace', path: '/obj/a', value: 9 },
      { op: 'move', from: '/list/0', path: '/moved' },
      { op: 'copy', from: '/obj', path: '/copy' },
      { op: 'test', path: '/copy/a', value: 9 },
    ]);
    expect(result).toEqual({ list: [3, 4], obj: { a: 9 }, moved: 2, copy: { a: 9 } });
    expect(applied.map((a) => a.previous)).toEqual([undefined, 1, 1, 2, undefined, undefined]);
    expect(input).toEqual({ list: [1, 2, 3], obj: { a: 1 } });
  });

  it('refuses operations on paths that do not exist', () => {
    expect(() => applyPatch({ a: [] }, [{ op: 'remove', path: '/a/0' }])).toThrow(PatchError);
    expect(() => applyPatch({ a: 1 }, [{ op: 'add', path: '/b/c', value: 1 }])).toThrow(PatchError);
    expect(() => applyPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(/test failed/);
    expect(() => applyPatch({}, [{ op: 'add', path: 'a', value: 1 }])).toThrow(/must start with/);
  });
});
