import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/manager/EnhancedStateManager.js';
import { killGroup, runHookProcess } from '../../src/hooks/runner.js';
import { tempProject } from '../helpers.js';
import { failure, isRunning, writeHook } from './support.js';

const started: number[] = [];
afterEach(() => started.splice(0).forEach((pid) => killGroup(pid)));

function request(root: string, path: string, timeoutMs = 30_000) {
  return { name: 'failure', path, cwd: root, env: { PATH: process.env.PATH }, stdin: '{}', timeoutMs };
}

describe('runHookProcess', () => {
  it('returns when the hook exits even if a background child keeps its output pipes open', async () => {
    const root = await tempProject();
    const path = await writeHook(root, 'failure', '#!/bin/sh\nsleep 60 &\necho "$!"\n');
    const run = await runHookProcess(request(root, path), 'failure');
    started.push(run.pid!);
    expect(run).toMatchObject({ ok: true, exitCode: 0, timedOut: false });
    // The background child is the user's business once the hook itself has exited.
    expect(isRunning(Number(run.stdoutTail.trim()))).toBe(true);
  });

  it('records a hook that cannot start instead of throwing', async () => {
    const root = await tempProject();
    const path = await writeHook(root, 'failure', '#!/nonexistent/interpreter\n');
    const run = await runHookProcess(request(root, path), 'failure');
    expect(run).toMatchObject({ ok: false, exitCode: null });
    expect(run.error).toMatch(/ENOENT/);
  });

  it('does not fail when the hook ignores its stdin', async () => {
    const root = await tempProject();
    const path = await writeHook(root, 'failure', '#!/bin/sh\nexit 0\n');
    const run = await runHookProcess({ ...request(root, path), stdin: 'x'.repeat(1 << 20) }, 'failure');
    expect(run).toMatchObject({ ok: true, exitCode: 0 });
  });
});

describe('hook depth', () => {
  it('skips hooks once hooks calling the CLI have nested 8 levels deep', async () => {
    const root = await tempProject();
    await writeHook(root, 'failure', '#!/bin/sh\ntouch "$AE_ROOT/ran"\n');
    const manager = new EnhancedStateManager(root, { gcInterval: 0, awaitHooks: true });
    const skipped: unknown[] = [];
    manager.on('hookSkipped', (e) => skipped.push(e));
    const saved = process.env.AE_HOOK_DEPTH;
    process.env.AE_HOOK_DEPTH = '8';
    try {
      await manager.persistFailureArtifact(failure());
    } finally {
      if (saved === undefined) delete process.env.AE_HOOK_DEPTH;
      else process.env.AE_HOOK_DEPTH = saved;
    }
    expect(skipped).toEqual([expect.objectContaining({ hook: 'failure', event: 'failure' })]);
    await expect(import('node:fs/promises').then((fs) => fs.access(join(root, 'ran')))).rejects.toThrow();
    await manager.shutdown();
  });
});
