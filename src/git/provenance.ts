/**
 * The project's current git commit and branch, recorded with each saved
 * version. Read from `HEAD` and the ref it names (a loose ref file or a line
 * of `packed-refs`): two or three small file reads, no status scan and no
 * git library, so a save stays fast. HEAD is read afresh on every call, so a
 * long-running process sees the commits the user makes meanwhile.
 */
import { join } from 'node:path';
import type { GitProvenance } from '../model/records.js';
import { findGitRepository, readSmallFile, type GitRepository } from './repository.js';

const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
// Refs stored per worktree; every other ref is shared through the common dir.
const PER_WORKTREE_REF = /^(?:HEAD|refs\/(?:bisect|worktree|rewritten)\/)/;
const MAX_SYMREF_DEPTH = 5;

/**
 * `{commit, branch}` of the repository containing `projectRoot`; branch is
 * null on a detached HEAD. Null outside git and on an unborn branch (a
 * repository without commits), where there is no commit to name.
 */
export async function readGitProvenance(projectRoot: string): Promise<GitProvenance | null> {
  const repo = await findGitRepository(projectRoot);
  return repo === null ? null : readHead(repo);
}

/** Resolves `HEAD` of a repository as provenance (see `readGitProvenance`). */
export async function readHead(repo: GitRepository): Promise<GitProvenance | null> {
  const head = (await readSmallFile(join(repo.gitdir, 'HEAD')))?.trim();
  if (!head) return null;
  if (OID.test(head)) return { commit: head, branch: null };
  const symbolic = /^ref:\s*(\S+)$/.exec(head)?.[1];
  if (symbolic === undefined || !isSafeRefName(symbolic)) return null;
  const commit = await resolveRefName(repo, symbolic, 0);
  if (commit === null) return null;
  return { commit, branch: symbolic.startsWith('refs/heads/') ? symbolic.slice('refs/heads/'.length) : symbolic };
}

/** The object id a full ref name points to, following symbolic refs; null when it does not exist. */
export async function resolveRefName(repo: GitRepository, ref: string, depth = 0): Promise<string | null> {
  if (depth > MAX_SYMREF_DEPTH || !isSafeRefName(ref)) return null;
  const base = PER_WORKTREE_REF.test(ref) ? repo.gitdir : repo.commondir;
  const loose = (await readSmallFile(join(base, ref)))?.trim();
  if (loose) {
    if (OID.test(loose)) return loose;
    const target = /^ref:\s*(\S+)$/.exec(loose)?.[1];
    return target === undefined ? null : resolveRefName(repo, target, depth + 1);
  }
  return readPackedRef(repo.commondir, ref);
}

async function readPackedRef(commondir: string, ref: string): Promise<string | null> {
  const packed = await readSmallFile(join(commondir, 'packed-refs'));
  if (packed === null) return null;
  for (const line of packed.split('\n')) {
    // "<oid> <name>"; comment lines start with '#', peeled tag lines with '^'.
    const space = line.indexOf(' ');
    if (space > 0 && line.slice(space + 1).trimEnd() === ref) {
      const oid = line.slice(0, space);
      return OID.test(oid) ? oid : null;
    }
  }
  return null;
}

/** Ref names come from files the user controls: never let one name a path outside the git directory. */
function isSafeRefName(ref: string): boolean {
  return (ref === 'HEAD' || ref.startsWith('refs/')) && !ref.split('/').includes('..') && !/[\0\\]/.test(ref);
}
