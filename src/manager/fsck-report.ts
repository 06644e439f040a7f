/**
 * What fsck reports: one problem per damaged or suspicious file, each with a
 * stable code, the path, and whether it fails the check (`error`) or is
 * normal debris that garbage collection or the next writer clears
 * (`warning`).
 */

export type FsckProblemCode =
  | 'bad-format-marker'
  | 'corrupt-object'
  | 'invalid-gzip'
  | 'unreadable-object'
  | 'invalid-ref'
  | 'misplaced-ref'
  | 'missing-object'
  | 'ref-to-corrupt-object'
  | 'invalid-commit'
  | 'missing-parent'
  | 'invalid-tag'
  | 'missing-tree'
  | 'invalid-tree'
  | 'unpublished-ref'
  | 'missing-commit'
  | 'ref-mismatch'
  | 'unsafe-entry'
  | 'unreachable-object'
  | 'damaged-pack'
  | 'stray-file';

const WARNINGS: ReadonlySet<FsckProblemCode> = new Set(['unpublished-ref', 'unreachable-object', 'stray-file']);

export interface FsckProblem {
  code: FsckProblemCode;
  severity: 'error' | 'warning';
  /** The file the problem is in. */
  path: string;
  message: string;
  checksum?: string;
  key?: string;
  /**
   * What `--repair` did about it: moved the file to `local/corrupt/`,
   * removed debris or a link (never its target), or moved a damaged ref
   * aside and rebuilt it from the commit that lists it.
   */
  repaired?: 'moved-aside' | 'removed' | 'restored';
}

export interface FsckResult {
  /** True when no error-level problem is left (warnings do not count). */
  ok: boolean;
  errors: number;
  warnings: number;
  repaired: number;
  checked: { objects: number; refs: number; commits: number; tags: number };
  problems: FsckProblem[];
  durationMs: number;
}

export function problem(
  code: FsckProblemCode,
  path: string,
  message: string,
  extra: { checksum?: string; key?: string } = {},
): FsckProblem {
  return { code, severity: WARNINGS.has(code) ? 'warning' : 'error', path, message, ...extra };
}

export function summarise(problems: FsckProblem[], checked: FsckResult['checked'], durationMs: number): FsckResult {
  const errors = problems.filter((p) => p.severity === 'error' && p.repaired === undefined).length;
  return {
    ok: errors === 0,
    errors,
    warnings: problems.filter((p) => p.severity === 'warning').length,
    repaired: problems.filter((p) => p.repaired !== undefined).length,
    checked,
    problems,
    durationMs,
  };
}
