/** Real git repositories for the tests of the git integration. */
import { run } from '../helpers.js';

const IDENTITY = ['-c', 'user.email=test@example.com', '-c', 'user.name=Test', '-c', 'commit.gpgsign=false'];

export function git(cwd: string, ...args: string[]): Promise<string> {
  return run('git', [...IDENTITY, ...args], cwd);
}

/** `git init -b main` in `dir`. */
export async function gitInit(dir: string): Promise<void> {
  await git(dir, 'init', '-q', '-b', 'main');
}

/** Stages everything and commits it; returns the new HEAD. */
export async function commitAll(dir: string, message: string): Promise<string> {
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return (await git(dir, 'rev-parse', 'HEAD')).trim();
}
