/**
 * Turning a revision as users write it (`main`, `v1.2`, `HEAD~2`, `a1b2c3d`,
 * `feature^2`) into a commit id, with isomorphic-git. Loaded lazily: only
 * reading the past needs it.
 */
import * as fs from 'node:fs';
import { GitError } from '../errors.js';
import { readHead } from './provenance.js';
import type { GitRepository } from './repository.js';

export type IsomorphicGit = typeof import('isomorphic-git');

/** isomorphic-git and what every call of it needs. */
export interface GitAccess {
  git: IsomorphicGit;
  fs: typeof fs;
  repo: GitRepository;
  /** Shared parse cache (pack indexes), per reader. */
  cache: object;
}

export async function openGitAccess(repo: GitRepository): Promise<GitAccess> {
  const git = await import('isomorphic-git');
  return { git, fs, repo, cache: {} };
}

const SUFFIXES = /^(.*?)((?:[~^]\d*)*)$/;

/** The commit a revision names. Unknown or malformed revisions are a `GitError`. */
export async function resolveRevision(access: GitAccess, rev: string): Promise<string> {
  if (typeof rev !== 'string' || rev.trim() === '' || /[\s:]/.test(rev)) {
    throw new GitError(`invalid git revision ${JSON.stringify(rev)}`, { rev });
  }
  const [, base = '', suffixes = ''] = SUFFIXES.exec(rev) ?? [];
  let oid = await peelToCommit(access, await resolveBase(access, base, rev), rev);
  for (const [, kind, digits] of suffixes.matchAll(/([~^])(\d*)/g)) {
    const n = digits === '' ? 1 : Number(digits);
    oid = kind === '~' ? await walkFirstParents(access, oid, n, rev) : await nthParent(access, oid, n, rev);
  }
  return oid;
}

async function resolveBase(access: GitAccess, base: string, rev: string): Promise<string> {
  const { git, repo } = access;
  if (base === 'HEAD' || base === '@') {
    // HEAD is per worktree, which isomorphic-git does not know about; read it directly.
    const head = await readHead(repo);
    if (head === null) throw new GitError(`HEAD of ${repo.worktree} does not name a commit yet`, { rev });
    return head.commit;
  }
  try {
    return await git.resolveRef({ fs, gitdir: repo.commondir, ref: base });
  } catch (error) {
    if (!isGitNotFound(error) || !/^[0-9a-f]{4,64}$/i.test(base)) throw unknownRevision(rev, error);
  }
  try {
    return await git.expandOid({ fs, gitdir: repo.commondir, oid: base.toLowerCase(), cache: access.cache });
  } catch (error) {
    throw unknownRevision(rev, error);
  }
}

/** Annotated tags point at tag objects; follow them to the commit. */
async function peelToCommit(access: GitAccess, oid: string, rev: string): Promise<string> {
  for (let depth = 0; depth < 10; depth++) {
    const object = await readParsed(access, oid, rev);
    if (object.type === 'commit') return oid;
    if (object.type !== 'tag') throw new GitError(`git revision ${JSON.stringify(rev)} names a ${object.type}, not a commit`, { rev });
    oid = (object.object as { object: string }).object;
  }
  throw new GitError(`git revision ${JSON.stringify(rev)}: tag chain too long`, { rev });
}

async function walkFirstParents(access: GitAccess, oid: string, count: number, rev: string): Promise<string> {
  for (let i = 0; i < count; i++) oid = await nthParent(access, oid, 1, rev);
  return oid;
}

async function nthParent(access: GitAccess, oid: string, n: number, rev: string): Promise<string> {
  if (n === 0) return oid;
  const { commit } = await access.git.readCommit({ fs, gitdir: access.repo.commondir, oid, cache: access.cache });
  const parent = commit.parent[n - 1];
  if (parent === undefined) throw new GitError(`git revision ${JSON.stringify(rev)} does not exist: history is not that deep`, { rev });
  return parent;
}

async function readParsed(access: GitAccess, oid: string, rev: string): Promise<{ type: string; object: unknown }> {
  try {
    return await access.git.readObject({ fs, gitdir: access.repo.commondir, oid, format: 'parsed', cache: access.cache });
  } catch (error) {
    throw unknownRevision(rev, error);
  }
}

export function isGitNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'NotFoundError';
}

function unknownRevision(rev: string, cause: unknown): GitError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new GitError(`unknown git revision ${JSON.stringify(rev)} (${reason})`, { rev });
}
