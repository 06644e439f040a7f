import { describe, expect, it } from 'vitest';
import { assertTextDepth, serialize } from '../../src/model/codec.js';
import { importedVersionProblem, MAX_IMPORT_VERSION, serializedDataProblem } from '../../src/model/import-check.js';

const version = { logicalKey: 'k', timestamp: '2025-01-01T00:00:00.000Z', version: 1, checksum: 'a'.repeat(64), size: 2, tags: {}, source: 's', created: '2025-01-01T00:00:00.000Z' };

describe('imported versions', () => {
  it('accepts a version at the limits and refuses one past them', () => {
    expect(importedVersionProblem({ ...version, timestamp: '8999-12-31T23:59:59.999Z', version: MAX_IMPORT_VERSION })).toBeNull();
    expect(importedVersionProblem({ ...version, timestamp: '9000-01-01T00:00:00.000Z' })).toMatch(/no room for later saves/);
    expect(importedVersionProblem({ ...version, version: MAX_IMPORT_VERSION + 1 })).toMatch(/above the limit/);
    expect(importedVersionProblem({ ...version, version: 0 })).toMatch(/version number/);
    expect(importedVersionProblem({ ...version, git: { commit: 'not-a-sha', branch: null } })).toMatch(/git provenance/);
    expect(importedVersionProblem({ ...version, size: 64 * 1024 * 1024 + 1 })).toMatch(/per version/);
  });

  it('accepts data that round-trips and refuses data a load could not give back', () => {
    expect(serializedDataProblem(serialize({ $ae: 'object', entries: 5, when: new Date(0), bytes: Buffer.from('x') }))).toBeNull();
    expect(serializedDataProblem(Buffer.from('{"$ae":"object","entries":5}'))).toMatch(/does not decode/);
    expect(serializedDataProblem(Buffer.from('{"$ae":"date","iso":"not a date"}'))).toMatch(/cannot be stored/);
    expect(serializedDataProblem(Buffer.from('{"a": 1}'))).toMatch(/same bytes/);
  });

  it('measures nesting on the text without recursion, ignoring brackets inside strings', () => {
    expect(() => assertTextDepth(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }));
    expect(() => assertTextDepth(`${'['.repeat(1000)}"[[[\\"["${']'.repeat(1000)}`)).not.toThrow();
    expect(() => assertTextDepth(`${'['.repeat(1001)}${']'.repeat(1001)}`)).toThrow(/1000 levels/);
  });
});
