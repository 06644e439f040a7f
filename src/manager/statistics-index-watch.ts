/**
 * What the statistics index checks, besides the change log, to tell that
 * `.ae/` may have changed behind ae-state's back: the machine's boot (the log
 * is not durable across a crash of the machine) and the project's git index
 * and HEAD (a checkout, merge, pull, reset or stash rewrites them).
 */
import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { StoreFs } from '../store/fs.js';

let bootId: string | undefined;

/** Identifies this boot of the machine: Linux's boot id, else the boot time to 10 s. */
export function currentBoot(): string {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = `t${Math.round((Date.now() - uptime() * 1000) / 10_000)}`;
    }
  }
  return bootId;
}

/** `<mtimeMs>:<size>:<ino>` of the git index and HEAD of the repository holding `start`, '' outside git. */
export function gitStamp(fs: StoreFs, start: string): string {
  const gitDir = findGitDir(fs, start);
  if (gitDir === null) return '';
  return ['index', 'HEAD']
    .map((name) => {
      const stats = fs.lstatSync(join(gitDir, name));
      return stats === undefined ? '-' : `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
    })
    .join(' ');
}

function findGitDir(fs: StoreFs, start: string): string | null {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    const stats = fs.lstatSync(dotGit);
    if (stats?.isDirectory()) return dotGit;
    if (stats?.isFile()) {
      // A worktree or submodule: `.git` names the directory that holds its index.
      const line = /^gitdir: (.+)$/m.exec(fs.readFileSync(dotGit).toString('utf8'));
      return line === null ? null : resolve(dir, line[1]!.trim());
    }
    if (dirname(dir) === dir) return null;
  }
}
