import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileKeyOf, keyOfDocument, parseKeySource, pathOfFileKey } from '../../src/model/file-keys.js';

describe('keys of files added by path', () => {
  it('reads / as . and drops .json', () => {
    expect(fileKeyOf('specs/domain/user.json')).toBe('specs.domain.user');
    expect(fileKeyOf('user.json')).toBe('user');
    expect(fileKeyOf('specs/order.v2.json')).toBe('specs.order%2Ev2');
  });

  it('is reversible for every path it accepts', () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9_%.-]{1,12}$/).filter((s) => s !== '.' && s !== '..' && !s.includes('..'));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
        const path = `${segments.join('/')}.json`;
        let key: string;
        try {
          key = fileKeyOf(path);
        } catch {
          return; // refused paths (say, a key too long) have no key to reverse
        }
        expect(pathOfFileKey(key)).toBe(path);
      }),
    );
  });

  it('refuses files that are not .json and paths with empty or parent segments', () => {
    expect(() => fileKeyOf('specs/user.yaml')).toThrow(/add reads \.json files/);
    expect(() => fileKeyOf('specs//user.json')).toThrow(/not a path inside the project/);
    expect(() => fileKeyOf('../user.json')).toThrow(/not a path inside the project/);
  });

  it('takes a key from a string field with field:NAME', () => {
    const source = parseKeySource('field:id');
    expect(keyOfDocument(source, 'a.json', { id: 'domain.user' })).toBe('domain.user');
    expect(() => keyOfDocument(source, 'a.json', { id: 3 })).toThrow('a.json has no string field "id" to take its key from');
    expect(() => parseKeySource('name')).toThrow(/is not "path" or "field:NAME"/);
  });
});
