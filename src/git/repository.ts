/**
 * Finding the git repository that holds a project root, with plain file
 * reads: no git library is loaded, because this runs on every save.
 *
 * A `.git` directory marks an ordinary working tree; a `.git` file
 * (`gitdir: <path>`) marks a linked worktree or a submodule, whose git
 * directory holds its own `HEAD` while branches and objects live in the
 * directory named by its `commondir` file.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isErrno } from '../store/fs.js';

export interface GitRepository {
  /** Top directory of the working tree. */
  worktree: string;
  /** The git directory of this working tree: holds `HEAD` and the index. */
  gitdir: string;
  /** Where branches, tags, packed-refs and objects live (equals `gitdir` outside linked worktrees). */
  commondir: string;
}

// Repositories do not move under a running process, so a found one is kept;
// "no repository" is re-checked after a while, since `git init` may follow.
const NEGATIVE_TTL_MS = 5000;
const found = new Map<string, GitRepository>();
const missing = new Map<string, number>();

/** The repository whose working tree contains `start`, or null outside git. */
export async function findGitRepository(start: string): Promise<GitRepository | null> {
  const from = resolve(start);
  const cached = found.get(from);
  if (cached) return cached;
  const missedAt = missing.get(from);
  if (missedAt !== undefined && Date.now() - missedAt < NEGATIVE_TTL_MS) return null;
  const repo = await searchUpward(from);
  if (repo === null) missing.set(from, Date.now());
  else {
    found.set(from, repo);
    missing.delete(from);
  }
  return repo;
}

async function searchUpward(from: string): Promise<GitRepository | null> {
  for (let dir = from; ; dir = dirname(dir)) {
    const repo = await repositoryAt(dir);
    if (repo !== null) return repo;
    if (dirname(dir) === dir) return null;
  }
}

async function repositoryAt(dir: string): Promise<GitRepository | null> {
  const dotGit = join(dir, '.git');
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dotGit)).isDirectory();
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR') || isErrno(error, 'EACCES')) return null;
    throw error;
  }
  const gitdir = isDirectory ? dotGit : await readGitdirFile(dotGit);
  if (gitdir === null || (await readSmallFile(join(gitdir, 'HEAD'))) === null) return null;
  const common = await readSmallFile(join(gitdir, 'commondir'));
  const commondir = common === null ? gitdir : resolve(gitdir, common.trim());
  return { worktree: dir, gitdir, commondir };
}

async function readGitdirFile(path: string): Promise<string | null> {
  const text = await readSmallFile(path);
  const match = text === null ? null : /^gitdir: (.+)$/m.exec(text);
  return match ? resolve(dirname(path), match[1]!.trim()) : null;
}

/** A small text file, or null when it does not exist. */
export async function readSmallFile(path: string): Promise<string | null> {
  // Read on the calling thread: a save reads two or three of these files,
  // and each call through the thread pool (open, stat, read, close) costs
  // far more than the read itself. Opened without blocking and read only
  // when it is a regular file, so a named pipe cannot hold the event loop.
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR') || isErrno(error, 'EISDIR')) return null;
    throw error;
  }
  try {
    return fstatSync(fd).isFile() ? readFileSync(fd, 'utf8') : null;
  } finally {
    closeSync(fd);
  }
}
