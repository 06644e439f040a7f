/** Helpers for hook tests: writing hook scripts and checking processes. */
import { readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trustHooks } from '../../src/hooks/trust.js';
import type { FailureArtifact } from '../../src/model/types.js';

/** Writes `.ae/hooks/<name>` with `body`, executable unless told otherwise, and trusted on this machine unless told otherwise. */
export async function writeHook(root: string, name: string, body: string, executable = true, trusted = true): Promise<string> {
  const dir = join(root, '.ae', 'hooks');
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, body);
  await chmod(path, executable ? 0o755 : 0o644);
  if (trusted) await trustHooks(root, [{ path, content: Buffer.from(body) }]);
  return path;
}

export function failure(overrides: Partial<FailureArtifact> = {}): FailureArtifact {
  return {
    id: `validation_failure_${Math.random().toString(36).slice(2)}`,
    timestamp: new Date().toISOString(),
    phase: 'phase-4',
    type: 'validation',
    error: new Error('Domain invariant violated'),
    context: { invariant: 'user.email.unique', violatingRecords: ['user123', 'user456'] },
    artifacts: ['validation-report.json', 'error-log.txt'],
    retryable: true,
    severity: 'high',
    ...overrides,
  };
}

/** Whether a process still runs (a zombie waiting to be reaped does not). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
