import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/manager/EnhancedStateManager.js';
import type { HookRun } from '../../src/hooks/runner.js';
import { CLI, tempProject } from '../helpers.js';
import { failure, isRunning, writeHook } from './support.js';

async function open(options: ConstructorParameters<typeof EnhancedStateManager>[1] = {}) {
  const root = await tempProject();
  return { root, manager: new EnhancedStateManager(root, { gcInterval: 0, awaitHooks: true, ...options }) };
}

function collectRuns(manager: EnhancedStateManager) {
  const runs: Array<[string, HookRun]> = [];
  manager.on('hookCompleted', (run: HookRun) => runs.push(['hookCompleted', run]));
  manager.on('hookFailed', (run: HookRun) => runs.push(['hookFailed', run]));
  return runs;
}

describe('failure hooks', () => {
  it('gives the failure and failure-<type> hooks exactly the stored artifact on stdin, and the event in env', async () => {
    const { root, manager } = await open();
    const record = 'cat > "$AE_ROOT/stdin-$AE_EVENT-$(basename "$0").json"\nenv | grep "^AE_" | sort > "$AE_ROOT/env-$(basename "$0").txt"\npwd > "$AE_ROOT/cwd.txt"\n';
    await writeHook(root, 'failure', `#!/bin/sh\n${record}`);
    await writeHook(root, 'failure-validation', `#!/bin/sh\n${record}`);
    await writeHook(root, 'failure-test', '#!/bin/sh\ntouch "$AE_ROOT/wrong-type"\n');
    const runs = collectRuns(manager);
    const key = await manager.persistFailureArtifact(failure());
    expect(runs.map(([event, run]) => [event, run.hook])).toEqual([['hookCompleted', 'failure'], ['hookCompleted', 'failure-validation']]);
    const stored = await manager.loadSSOT('failure_phase-4');
    for (const hook of ['failure', 'failure-validation']) {
      const input = JSON.parse(await readFile(join(root, `stdin-failure-${hook}.json`), 'utf8'));
      expect(input).toEqual({ event: 'failure', key, logicalKey: 'failure_phase-4', version: 1, artifact: stored });
    }
    const env = await readFile(join(root, 'env-failure.txt'), 'utf8');
    expect(env).toContain(`AE_KEY=${key}\n`);
    expect(env).toContain('AE_EVENT=failure\n');
    expect(env).toContain('AE_PHASE=phase-4\n');
    expect(env).toContain('AE_FAILURE_TYPE=validation\n');
    expect(env).toContain('AE_SEVERITY=high\n');
    expect(env).toContain(`AE_STORE=${join(root, '.ae')}\n`);
    expect(env).toContain(`AE_ROOT=${root}\n`);
    expect(env).toContain(`AE_STATE_CLI=${CLI}\n`);
    expect((await readFile(join(root, 'cwd.txt'), 'utf8')).trim()).toBe(root);
    expect(await readdir(root)).not.toContain('wrong-type');
    await manager.shutdown();
  });

  it('runs nothing else when the artifact holds hostile data', async () => {
    const { root, manager } = await open();
    await writeHook(root, 'failure', '#!/bin/sh\ncat > "$AE_ROOT/stdin.json"\necho "$AE_PHASE $AE_KEY $AE_SEVERITY" > "$AE_ROOT/env.txt"\n');
    const hostile = [`"; touch pwned1; echo "`, `$(touch pwned2)`, '`touch pwned3`', "'; touch pwned4 #", 'line\ntouch pwned5\n', 'x'.repeat(100_000)];
    const phase = 'phase-$(touch pwned6)`touch pwned7`;touch pwned8';
    const artifact = failure({
      id: hostile.slice(0, 5).join('|'),
      phase,
      error: new Error(hostile.join('\n')),
      context: { specKey: '$(touch pwned9)', hostile },
      artifacts: hostile,
    });
    const key = await manager.persistFailureArtifact(artifact);
    expect((await readdir(root)).sort()).toEqual(['.ae', 'env.txt', 'stdin.json']);
    const input = JSON.parse(await readFile(join(root, 'stdin.json'), 'utf8'));
    expect(input.artifact.context.hostile).toEqual(hostile);
    expect(input.artifact.error.message).toBe(hostile.join('\n'));
    expect((await readFile(join(root, 'env.txt'), 'utf8')).trim()).toBe(`${phase} ${key} high`);
    await manager.shutdown();
  });

  it('kills a hanging hook and its process group at hookTimeout; the artifact is stored', async () => {
    const { root, manager } = await open({ hookTimeout: 1 });
    await writeHook(root, 'failure', '#!/bin/sh\nsleep 30 &\necho $! > "$AE_ROOT/child.pid"\nsleep 30\n');
    const runs = collectRuns(manager);
    const key = await manager.persistFailureArtifact(failure());
    expect(runs).toHaveLength(1);
    const [event, run] = runs[0]!;
    expect(event).toBe('hookFailed');
    expect(run).toMatchObject({ hook: 'failure', timedOut: true, ok: false, signal: 'SIGKILL', exitCode: null });
    const child = Number(await readFile(join(root, 'child.pid'), 'utf8'));
    await waitUntil(() => !isRunning(run.pid!) && !isRunning(child));
    expect(isRunning(child)).toBe(false);
    expect((await manager.loadEntry('failure_phase-4'))!.id).toBe(key);
    await manager.shutdown();
  });

  it('records a failing hook (status, output tail) and still stores the artifact', async () => {
    const { root, manager } = await open();
    await writeHook(root, 'failure', `#!/bin/sh\nhead -c 10000 /dev/zero | tr '\\0' a\necho last-out\necho boom >&2\nexit 3\n`);
    const runs = collectRuns(manager);
    const key = await manager.persistFailureArtifact(failure());
    expect(runs.map(([e]) => e)).toEqual(['hookFailed']);
    const log = JSON.parse(await readFile(join(root, '.ae', 'local', 'hooks', 'failure.json'), 'utf8'));
    expect(log.runs[0]).toMatchObject({ hook: 'failure', event: 'failure', exitCode: 3, ok: false, timedOut: false, stderrTail: 'boom\n' });
    expect(log.runs[0].stdoutTail.length).toBe(4096);
    expect(log.runs[0].stdoutTail.endsWith('aaaalast-out\n')).toBe(true);
    expect((await manager.listHooks()).find((h) => h.name === 'failure')!.lastRun).toMatchObject({ exitCode: 3 });
    expect((await manager.loadEntry('failure_phase-4'))!.id).toBe(key);
    await manager.shutdown();
  });

  it('skips files that are not executable or end in .sample', async () => {
    const { root, manager } = await open();
    await writeHook(root, 'failure', '#!/bin/sh\ntouch "$AE_ROOT/ran-plain"\n', false);
    await writeHook(root, 'failure-validation.sample', '#!/bin/sh\ntouch "$AE_ROOT/ran-sample"\n');
    await writeHook(root, 'post-commit.sample', '#!/bin/sh\ntouch "$AE_ROOT/ran-sample"\n');
    const runs = collectRuns(manager);
    await manager.persistFailureArtifact(failure());
    expect(runs).toEqual([]);
    expect(await readdir(root)).toEqual(['.ae']);
    const hooks = await manager.listHooks();
    expect(hooks.map((h) => [h.name, h.active, h.reason])).toEqual([
      ['failure', false, 'not executable'],
      ['failure-validation.sample', false, 'sample'],
      ['post-commit.sample', false, 'sample'],
    ]);
    await expect(manager.runHook('failure')).rejects.toThrow(/inactive \(not executable\)/);
    await expect(manager.runHook('../../etc/passwd')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await manager.shutdown();
  });

  it('lets a hook save through the CLI without deadlock', async () => {
    const { root, manager } = await open();
    await writeHook(root, 'failure', `#!/bin/sh\necho '{"refined":true}' | "${process.execPath}" "$AE_STATE_CLI" save -k from_hook -i - --source cegis-hook\n`);
    const runs = collectRuns(manager);
    await manager.persistFailureArtifact(failure());
    expect(runs[0]![1]).toMatchObject({ ok: true });
    expect(await manager.loadSSOT('from_hook')).toEqual({ refined: true });
    expect((await manager.getVersions('from_hook'))[0]!.source).toBe('cegis-hook');
    await manager.shutdown();
  });
});

describe('post-commit hooks and awaitHooks', () => {
  it('runs post-commit after each commit with the commit on stdin', async () => {
    const { root, manager } = await open();
    await writeHook(root, 'post-commit', '#!/bin/sh\ncat >> "$AE_ROOT/commits.jsonl"\necho >> "$AE_ROOT/commits.jsonl"\n');
    const key = await manager.saveSSOT('spec', { a: 1 });
    const txId = await manager.beginTransaction();
    await manager.saveSSOT('x', 1, { transactionId: txId });
    await manager.saveSSOT('y', 2, { transactionId: txId });
    const keys = await manager.commitTransaction(txId);
    const lines = (await readFile(join(root, 'commits.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ event: 'post-commit', keys: [key], transactionId: null, operationCount: 1 });
    expect(lines[1]).toMatchObject({ event: 'post-commit', keys, transactionId: txId, operationCount: 2 });
    await manager.shutdown();
  });

  it('runs post-snapshot and post-gc with their events', async () => {
    const { root, manager } = await open();
    await writeHook(root, 'post-snapshot', '#!/bin/sh\ncat > "$AE_ROOT/snapshot.json"\necho "$AE_PHASE" > "$AE_ROOT/snapshot-phase.txt"\n');
    await writeHook(root, 'post-gc', '#!/bin/sh\ncat > "$AE_ROOT/gc.json"\n');
    await manager.saveSSOT('spec', { a: 1 }, { phase: 'phase-5' });
    const snapshotId = await manager.createSnapshot('phase-5');
    await manager.runGarbageCollection();
    await manager.shutdown(); // waits for the hooks
    expect(JSON.parse(await readFile(join(root, 'snapshot.json'), 'utf8'))).toMatchObject({ event: 'post-snapshot', snapshotId });
    expect((await readFile(join(root, 'snapshot-phase.txt'), 'utf8')).trim()).toBe('phase-5');
    expect(JSON.parse(await readFile(join(root, 'gc.json'), 'utf8'))).toMatchObject({ event: 'post-gc' });
  });

  it('does not wait for hooks when awaitHooks is false, and shutdown waits for them', async () => {
    const { root, manager } = await open({ awaitHooks: false, hookTimeout: 10 });
    // The hook finishes only after the test has seen persistFailureArtifact return.
    await writeHook(root, 'failure', '#!/bin/sh\nwhile [ ! -e "$AE_ROOT/go" ]; do sleep 0.02; done\ntouch "$AE_ROOT/done"\n');
    await manager.persistFailureArtifact(failure());
    expect(await readdir(root)).toEqual(['.ae']);
    await writeFile(join(root, 'go'), '');
    await manager.shutdown();
    expect((await readdir(root)).sort()).toEqual(['.ae', 'done', 'go']);
  });
});

async function waitUntil(condition: () => boolean, limitMs = 5000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!condition() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
}
