/**
 * The difference between two JSON documents as an RFC 6902 patch, computed
 * by jsondiffpatch (loaded on first use) with array items matched by
 * identity (see `identityOf`). Every patch is checked before it is
 * returned: applied to `from` it must give `to`.
 */
import { identityOf } from './identity.js';
import { applyPatch, isDeepEqual, type AppliedOperation, type PatchOperation } from './json-patch.js';

/** JSON Pointer paths of what a patch adds, removes and changes. */
export interface DiffSummary {
  /** Paths in `to` of added members and items. */
  added: string[];
  /** Paths of removed members and items, as the patch names them. */
  removed: string[];
  /** Paths in `to` of replaced values, and of items that moved within their array. */
  changed: string[];
}

/** One change, with the value it replaced or removed, for display. */
export interface Change {
  kind: 'added' | 'removed' | 'changed' | 'moved';
  path: string;
  /** For moves: where the item was. */
  from?: string;
  before?: unknown;
  after?: unknown;
}

export interface DocumentDiff {
  equal: boolean;
  patch: PatchOperation[];
  summary: DiffSummary;
  changes: Change[];
}

type Differ = { diff(left: unknown, right: unknown): unknown };
type JsonPatchFormat = (delta: never) => PatchOperation[];

let loaded: Promise<{ differ: Differ; format: JsonPatchFormat }> | null = null;

function loadDiffer(): Promise<{ differ: Differ; format: JsonPatchFormat }> {
  loaded ??= Promise.all([import('jsondiffpatch'), import('jsondiffpatch/formatters/jsonpatch')]).then(([lib, jsonpatch]) => ({
    // Diff values are only read, never patched in place, so they need not be cloned.
    differ: lib.create({ objectHash: identityOf, arrays: { detectMove: true, includeValueOnMove: false }, cloneDiffValues: false }),
    format: jsonpatch.format as unknown as JsonPatchFormat,
  }));
  return loaded;
}

/** Compares two JSON documents (plain JSON values: the form in which the store serialises data). */
export async function diffDocuments(from: unknown, to: unknown): Promise<DocumentDiff> {
  if (isDeepEqual(from, to)) return { equal: true, patch: [], summary: { added: [], removed: [], changed: [] }, changes: [] };
  const patch = await computePatch(from, to);
  const checked = patch === null ? null : tryApply(from, patch);
  if (patch === null || checked === null || !isDeepEqual(checked.result, to)) {
    // Never hand out a patch that does not reproduce `to`; replacing the whole
    // document is coarse but always right.
    return describe(from, [{ op: 'replace', path: '', value: to }]);
  }
  return { equal: false, patch, ...summarise(checked.applied) };
}

/** The library's patch, or null when it fails on the input. */
async function computePatch(from: unknown, to: unknown): Promise<PatchOperation[] | null> {
  const { differ, format } = await loadDiffer();
  try {
    // Objects without a prototype: the library would otherwise take members
    // named "toString" or "constructor" for Object.prototype's.
    const delta = differ.diff(withoutPrototypes(from), withoutPrototypes(to));
    return delta === undefined ? [] : (JSON.parse(JSON.stringify(format(delta as never))) as PatchOperation[]);
  } catch {
    return null;
  }
}

function tryApply(from: unknown, patch: PatchOperation[]): ReturnType<typeof applyPatch> | null {
  try {
    return applyPatch(from, patch);
  } catch {
    return null;
  }
}

function withoutPrototypes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPrototypes);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = Object.create(null);
  for (const [name, member] of Object.entries(value)) copy[name] = withoutPrototypes(member);
  return copy;
}

function describe(from: unknown, patch: PatchOperation[]): DocumentDiff {
  return { equal: false, patch, ...summarise(applyPatch(from, patch).applied) };
}

function summarise(applied: readonly AppliedOperation[]): { summary: DiffSummary; changes: Change[] } {
  const summary: DiffSummary = { added: [], removed: [], changed: [] };
  const changes: Change[] = [];
  for (const { operation: op, previous } of applied) {
    if (op.op === 'add') {
      summary.added.push(op.path);
      changes.push({ kind: 'added', path: op.path, after: op.value });
    } else if (op.op === 'remove') {
      summary.removed.push(op.path);
      changes.push({ kind: 'removed', path: op.path, before: previous });
    } else if (op.op === 'replace') {
      summary.changed.push(op.path);
      changes.push({ kind: 'changed', path: op.path, before: previous, after: op.value });
    } else if (op.op === 'move') {
      summary.changed.push(op.path);
      changes.push({ kind: 'moved', path: op.path, from: op.from });
    }
  }
  return { summary, changes };
}
