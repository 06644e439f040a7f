/**
 * Which hook scripts this machine has approved. A store's `hooks/` directory
 * can arrive in a clone (`git add -f` defeats the store's .gitignore), and a
 * hook runs with the user's rights on every save: so, like `direnv allow`, a
 * hook runs only when its exact content (path and sha256) was approved here,
 * with `ae-state hooks trust NAME`, `ae-state init` or `installSampleHooks`.
 *
 * Approvals are kept where git never checks anything out: inside the
 * project's `.git/` directory (`.git/ae-state/trusted-hooks.json`), or, for
 * a project outside git, in the per-user config folder
 * (`$XDG_CONFIG_HOME/ae-state/`, by default `~/.config/ae-state/`). A changed
 * hook no longer matches its approval and is skipped until trusted again.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../store/atomic-write.js';
import { nodeFs, readFileIfExists } from '../store/fs.js';

const TRUST_FILE = 'trusted-hooks.json';

export interface HookApproval {
  sha256: string;
  trustedAt: string;
}

interface TrustFile {
  format: 1;
  /** Approvals of one hook file, by absolute hook path. */
  hooks: Record<string, HookApproval>;
  /**
   * Contents approved under any name, by sha256: the package's own sample
   * hooks as `init` installed them, so that a sample copied unchanged to an
   * active name (`cp cegis-refine.sample failure-validation`) runs.
   */
  contents?: Record<string, { name: string; trustedAt: string }>;
}

export function hookContentHash(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The file that holds this machine's approvals for hooks of the project at `projectRoot`. */
export function trustFilePath(projectRoot: string): string {
  const gitDir = findGitDir(resolve(projectRoot));
  if (gitDir !== null) return join(gitDir, 'ae-state', TRUST_FILE);
  const configHome = process.env.XDG_CONFIG_HOME;
  const base = configHome && isAbsolute(configHome) ? configHome : join(homedir(), '.config');
  return join(base, 'ae-state', TRUST_FILE);
}

/** The enclosing repository's git directory (`.git/`, or where a worktree's `.git` file points), or null. */
function findGitDir(start: string): string | null {
  for (let dir = start; ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    const stats = lstatSync(dotGit, { throwIfNoEntry: false });
    if (stats?.isDirectory()) return dotGit;
    if (stats?.isFile()) {
      const match = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'));
      if (match) return resolve(dir, match[1]!.trim());
    }
    if (dirname(dir) === dir) return null;
  }
}

async function readTrustFile(path: string): Promise<TrustFile> {
  const bytes = await readFileIfExists(nodeFs, path);
  if (bytes === null) return { format: 1, hooks: {} };
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as Partial<TrustFile>;
    if (parsed.format === 1 && parsed.hooks !== null && typeof parsed.hooks === 'object') return parsed as TrustFile;
  } catch {
    // A damaged approval file approves nothing; trusting again rewrites it.
  }
  return { format: 1, hooks: {} };
}

/** Whether the hook at `hookPath` with exactly `content` is approved on this machine. */
export async function isHookTrusted(projectRoot: string, hookPath: string, content: Uint8Array): Promise<boolean> {
  const approvals = await readTrustFile(trustFilePath(projectRoot));
  const sha256 = hookContentHash(content);
  return approvals.hooks[resolve(hookPath)]?.sha256 === sha256 || approvals.contents?.[sha256] !== undefined;
}

/** Approves the hooks at `hookPaths` with the given contents; later changes to them void the approval. */
export async function trustHooks(
  projectRoot: string,
  hooks: ReadonlyArray<{ path: string; content: Uint8Array }>,
  anyName: ReadonlyArray<{ name: string; content: Uint8Array }> = [],
): Promise<string> {
  const file = trustFilePath(projectRoot);
  const approvals = await readTrustFile(file);
  const trustedAt = new Date().toISOString();
  for (const hook of hooks) approvals.hooks[resolve(hook.path)] = { sha256: hookContentHash(hook.content), trustedAt };
  for (const sample of anyName) (approvals.contents ??= {})[hookContentHash(sample.content)] = { name: sample.name, trustedAt };
  await nodeFs.mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(nodeFs, dirname(file), file, Buffer.from(`${JSON.stringify(approvals, null, 2)}\n`));
  return file;
}
