import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { excerptAt, findJsonSyntaxError } from '../../src/model/json-syntax.js';

describe('JSON syntax error location', () => {
  it('accepts every valid JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        expect(findJsonSyntaxError(JSON.stringify(value, null, pretty ? 2 : 0))).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['{\n  "a": 1,\n  "b": }\n', 3, 8],
    ['{"a": 1,}', 1, 9],
    ['[1, 2', 1, 6],
    ['{"a" 1}', 1, 6],
    ['{"a": tru}', 1, 7],
    ['{} extra', 1, 4],
    ["{'a': 1}", 1, 2],
    ['[1, 2\n\n', 1, 6],
    ['{\n  "a": 1\n', 2, 9],
  ])('locates the error in %j at line %i, column %i', (text, line, column) => {
    expect(findJsonSyntaxError(text)).toMatchObject({ line, column });
  });

  it('agrees with JSON.parse on which texts are invalid', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(findJsonSyntaxError(text) === null).toBe(valid);
      }),
      { numRuns: 500 },
    );
  });
});

describe('excerptAt', () => {
  it('quotes the whole line when it fits, with the caret at the column', () => {
    const text = '{\n  "b": }\n';
    const problem = findJsonSyntaxError(text)!;
    expect(excerptAt(text, problem)).toEqual({ text: '  "b": }', caret: 7 });
  });

  it('cuts a long line around the column and marks both cuts, keeping the caret on the same character', () => {
    const text = `{"a":"${'x'.repeat(500)}",]`;
    const problem = findJsonSyntaxError(text)!;
    const excerpt = excerptAt(text, problem, 40);
    expect(excerpt.text.startsWith('…')).toBe(true);
    expect(excerpt.text[excerpt.caret]).toBe(text[problem.offset]);
    expect(excerpt.text.length).toBeLessThanOrEqual(42);
  });
});
