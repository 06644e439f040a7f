import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffDocuments } from '../../src/diff/diff-documents.js';
import { applyPatch, type PatchOperation } from '../../src/diff/json-patch.js';
import { readAeIr } from '../helpers.js';

/** jsondiffpatch's own RFC 6902 applier: a second, independent check of every patch. */
async function applyWithLibrary(document: unknown, patch: PatchOperation[]): Promise<unknown> {
  const { patch: apply } = await import('jsondiffpatch/formatters/jsonpatch');
  const target = { root: structuredClone(document) };
  apply(target, patch.map((op) => ({ ...op, path: `/root${op.path}`, ...('from' in op ? { from: `/root${op.from}` } : {}) })) as never);
  return target.root;
}

async function expectPatchApplies(before: unknown, after: unknown): Promise<PatchOperation[]> {
  // Documents as the store has them: parsed JSON (so no -0).
  const [from, to] = [before, after].map((doc) => JSON.parse(JSON.stringify(doc)) as unknown);
  const diff = await diffDocuments(from, to);
  expect(applyPatch(from, diff.patch).result).toEqual(to);
  // jsondiffpatch's applier takes an object member named "-" for the array end
  // marker and refuses members that could reach a prototype.
  const refused = new Set(['-', '__proto__', 'constructor', 'prototype']);
  if (!diff.patch.some((op) => op.path.split('/').some((t) => refused.has(t)))) expect(await applyWithLibrary(from, diff.patch)).toEqual(to);
  return diff.patch;
}

type Spec = Record<string, any>;

describe('diffDocuments on the AE-IR sample', () => {
  it('reports an entity inserted at the front of domain as one addition', async () => {
    const from = await readAeIr();
    const to: Spec = structuredClone(from);
    to.domain.unshift({ name: 'Order', fields: [{ name: 'id', type: 'uuid', required: true }] });
    const diff = await diffDocuments(from, to);
    expect(diff.patch).toEqual([{ op: 'add', path: '/domain/0', value: to.domain[0] }]);
    expect(diff.summary).toEqual({ added: ['/domain/0'], removed: [], changed: [] });
    await expectPatchApplies(from, to);
  });

  it('matches glossary terms, invariants and api endpoints by identity, not position', async () => {
    const from: Spec = await readAeIr();
    const to: Spec = structuredClone(from);
    to.glossary.unshift({ term: 'Order', definition: 'A purchase' });
    to.invariants.unshift({ id: 'INV_000', description: 'x', expression: 'x', entities: [], severity: 'warning' });
    to.api.unshift({ method: 'DELETE', path: '/users/:id', summary: 'Delete user' });
    to.api[2].summary = 'Get one user';
    const diff = await diffDocuments(from, to);
    expect(diff.summary.added.sort()).toEqual(['/api/0', '/glossary/0', '/invariants/0']);
    expect(diff.summary.removed).toEqual([]);
    expect(diff.summary.changed).toEqual(['/api/2/summary']);
    await expectPatchApplies(from, to);
  });

  it('shows a removed invariant as one removal with its old value', async () => {
    const from: Spec = await readAeIr();
    const to: Spec = structuredClone(from);
    to.invariants.splice(0, 1);
    const diff = await diffDocuments(from, to);
    expect(diff.patch).toEqual([{ op: 'remove', path: '/invariants/0' }]);
    expect(diff.changes).toEqual([{ kind: 'removed', path: '/invariants/0', before: from.invariants[0] }]);
  });

  it('shows a renamed field as the old field removed and the new one added', async () => {
    const from: Spec = await readAeIr();
    const to: Spec = structuredClone(from);
    to.domain[0].fields[1].name = 'emailAddress';
    to.metadata.summary = to.metadata.description;
    delete to.metadata.description;
    const diff = await diffDocuments(from, to);
    expect(diff.summary.removed.sort()).toEqual(['/domain/0/fields/1', '/metadata/description']);
    expect(diff.summary.added.sort()).toEqual(['/domain/0/fields/1', '/metadata/summary']);
    expect(diff.summary.changed).toEqual([]);
    await expectPatchApplies(from, to);
  });

  it('reports equal documents as equal with an empty patch, whatever their member order', async () => {
    const from = await readAeIr();
    const reordered = Object.fromEntries(Object.entries(from).reverse());
    expect(await diffDocuments(from, reordered)).toMatchObject({ equal: true, patch: [] });
  });

  it('escapes "/" and "~" in member names as JSON Pointer requires', async () => {
    const patch = await expectPatchApplies({ paths: { '/users': 1 } }, { paths: { '/users': 2, 'a~b': 3 } });
    expect(patch.map((op) => op.path).sort()).toEqual(['/paths/a~0b', '/paths/~1users']);
  });

  it('replaces the whole document when its type changes', async () => {
    const patch = await expectPatchApplies({ a: 1 }, [1, 2]);
    expect(patch).toEqual([{ op: 'replace', path: '', value: [1, 2] }]);
  });
});

// Arrays of named entities drawn from a small pool of names, so that inserts,
// removals, moves and edits of the same entity all occur.
const entity = fc.record({
  name: fc.constantFrom('User', 'Order', 'Item', 'Cart', 'Payment', 'Invoice'),
  note: fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 3 })),
  tags: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
});
const documentArb = fc.record({
  version: fc.constantFrom('1.0.0', '1.1.0'),
  domain: fc.uniqueArray(entity, { selector: (e) => e.name, maxLength: 6 }),
  steps: fc.array(fc.record({ step: fc.integer({ min: 1, max: 4 }), text: fc.string({ maxLength: 2 }) }), { maxLength: 4 }),
  extra: fc.jsonValue({ maxDepth: 3 }),
});

describe('diffDocuments patches', () => {
  it('turn from into to for any two documents (checked by two appliers)', async () => {
    await fc.assert(
      fc.asyncProperty(documentArb, documentArb, async (from, to) => {
        const patch = await expectPatchApplies(from, to);
        // Entity arrays are matched item by item, never replaced wholesale (except
        // by the checked fallback, for "__proto__" members the library skips).
        if (!JSON.stringify([from, to]).includes('"__proto__"')) {
          expect(patch.some((op) => op.path === '' || op.path === '/domain')).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('turn from into to for arbitrary JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }), async (from, to) => {
        await expectPatchApplies(from, to);
      }),
      { numRuns: 300 },
    );
  });
});

describe('diffDocuments with member names the diff library does not see', () => {
  it('still returns a patch that turns from into to', async () => {
    // jsondiffpatch skips members named like Object.prototype's; the checked fallback covers them.
    const to = JSON.parse('{"valueOf":[],"__proto__":{"polluted":true}}');
    const diff = await diffDocuments({}, to);
    expect(diff.equal).toBe(false);
    expect(applyPatch({}, diff.patch).result).toEqual(to);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
