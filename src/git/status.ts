/**
 * What of the store is not yet committed to the project's git: new, changed
 * and deleted files under the store directory (never `local/`, which is not
 * meant for git), from isomorphic-git's `statusMatrix` restricted to the
 * store, so the rest of the working tree is not scanned.
 */
import { GitError } from '../errors.js';
import { readHead } from './provenance.js';
import { findGitRepository } from './repository.js';
import { openGitAccess } from './revision.js';
import { storePrefix } from './store-at-revision.js';

export type FileState = 'new' | 'modified' | 'deleted';

export interface StoreFileStatus {
  /** Path relative to the git working tree, with `/` separators. */
  path: string;
  /** `versions`, `commits`, `objects`, `snapshots`, or the first path segment inside the store. */
  group: string;
  /** Compared with the HEAD commit. */
  state: FileState;
  /** Whether the change is staged (`git add`) as it is in the working tree. */
  staged: boolean;
}

export interface StoreGitStatus {
  /** HEAD commit, or null before the first commit. */
  gitCommit: string | null;
  branch: string | null;
  /** The store directory as a git path. */
  store: string;
  clean: boolean;
  files: StoreFileStatus[];
  /** Counts per group and state. */
  groups: Record<string, Record<FileState, number>>;
}

const GROUPS: Array<[prefix: string, group: string]> = [
  ['refs/keys/', 'versions'],
  ['refs/tags/', 'snapshots'],
  ['snapshots/', 'snapshots'],
  ['commits/', 'commits'],
  ['objects/', 'objects'],
];

export async function readStoreGitStatus(projectRoot: string, storeDir: string): Promise<StoreGitStatus> {
  const repo = await findGitRepository(projectRoot);
  if (repo === null) throw new GitError(`${projectRoot} is not inside a git repository`, { projectRoot });
  if (repo.gitdir !== repo.commondir) {
    throw new GitError(`status is not supported in a linked git worktree (${repo.worktree}); run it in the main working tree`, {
      worktree: repo.worktree,
    });
  }
  const prefix = await storePrefix(repo.worktree, projectRoot, storeDir);
  const head = await readHead(repo);
  const { git, fs, cache } = await openGitAccess(repo);
  const matrix = await git.statusMatrix({ fs, dir: repo.worktree, gitdir: repo.gitdir, filepaths: [prefix], cache });
  const files: StoreFileStatus[] = [];
  for (const [path, headState, workdirState, stageState] of matrix) {
    if (!path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}/local/`)) continue;
    const state = fileState(headState, workdirState);
    if (state === null) continue;
    const staged = workdirState === 0 ? stageState === 0 : stageState === 2 || (workdirState === 1 && stageState === 1);
    files.push({ path, group: groupOf(path.slice(prefix.length + 1)), state, staged });
  }
  return { gitCommit: head?.commit ?? null, branch: head?.branch ?? null, store: prefix, clean: files.length === 0, files, groups: countGroups(files) };
}

/** Compared with HEAD: [head 0/1, workdir 0 absent / 1 same as HEAD / 2 different]. */
function fileState(headState: number, workdirState: number): FileState | null {
  if (headState === 0) return workdirState === 0 ? null : 'new';
  if (workdirState === 0) return 'deleted';
  return workdirState === 2 ? 'modified' : null;
}

function groupOf(inside: string): string {
  for (const [prefix, group] of GROUPS) if (inside.startsWith(prefix)) return group;
  return inside.split('/')[0]!;
}

function countGroups(files: readonly StoreFileStatus[]): Record<string, Record<FileState, number>> {
  const groups: Record<string, Record<FileState, number>> = {};
  for (const file of files) {
    groups[file.group] ??= { new: 0, modified: 0, deleted: 0 };
    groups[file.group]![file.state]++;
  }
  return groups;
}
