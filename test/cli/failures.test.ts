import { chmod, copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AE_IR_SAMPLE, runCli, tempProject } from '../helpers.js';
import { writeHook } from '../hooks/support.js';

async function cli(root: string, args: string[], input?: string) {
  return runCli(['--root', root, ...args], { input });
}

describe('CLI: simulate-failure and failures', () => {
  it('stores a failure exactly as the reference command line describes, and lists it with filters', async () => {
    const root = await tempProject();
    const first = await cli(root, ['simulate-failure', '-p', 'phase-4', '-t', 'validation', '-m', 'Invariant violation', '-s', 'critical', '--retryable', '--json']);
    expect(first.code).toBe(0);
    const stored = JSON.parse(first.stdout);
    expect(stored).toMatchObject({ phase: 'phase-4', type: 'validation', severity: 'critical', retryable: true, hooks: [] });
    expect(stored.key).toMatch(/^failure_phase-4_/);
    expect((await cli(root, ['simulate-failure', '-p', 'phase-2', '-t', 'compilation', '-m', 'tsc failed', '-s', 'low'])).code).toBe(0);

    const all = JSON.parse((await cli(root, ['failures', '--json'])).stdout);
    expect(all.map((f: any) => f.artifact.type)).toEqual(['compilation', 'validation']);
    expect(all[1]).toMatchObject({ key: stored.key, version: 1, artifact: { error: { name: 'Error', message: 'Invariant violation' }, retryable: true } });
    const ids = async (...filters: string[]) => JSON.parse((await cli(root, ['failures', '--json', ...filters])).stdout).map((f: any) => f.artifact.phase);
    expect(await ids('--phase', 'phase-4')).toEqual(['phase-4']);
    expect(await ids('--type', 'compilation')).toEqual(['phase-2']);
    expect(await ids('--severity', 'critical')).toEqual(['phase-4']);
    expect(await ids('--retryable')).toEqual(['phase-4']);
    expect(await ids('--no-retryable')).toEqual(['phase-2']);
    expect(await ids('--since', '2999-01-01')).toEqual([]);

    const table = await cli(root, ['failures']);
    expect(table.stdout).toMatch(/phase-4\s+validation\s+critical\s+yes\s+1\s+Invariant violation/);
    expect((await cli(root, ['versions', '-k', 'failure_phase-4'])).code).toBe(0);
  });

  it('refuses an unknown type or severity as a usage error', async () => {
    const root = await tempProject();
    const badType = await cli(root, ['simulate-failure', '-p', 'phase-4', '-t', 'runtime', '-m', 'x', '-s', 'high']);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/validation, compilation, test, verification, generation/);
    expect((await cli(root, ['simulate-failure', '-p', 'phase-4', '-t', 'test', '-s', 'fatal'])).code).toBe(2);
    expect((await cli(root, ['failures', '--severity', 'fatal'])).code).toBe(2);
  });
});

describe('CLI: init, hooks and the CEGIS loop', () => {
  it('init installs the sample hooks and never overwrites an existing file', async () => {
    const root = await tempProject();
    const first = JSON.parse((await cli(root, ['init', '--json'])).stdout);
    expect(first.hooks).toEqual({ installed: ['cegis-refine.sample', 'notify.sample'], kept: [] });
    const notify = join(root, '.ae', 'hooks', 'notify.sample');
    await writeFile(notify, 'my edits');
    const again = JSON.parse((await cli(root, ['init', '--json'])).stdout);
    expect(again.hooks).toEqual({ installed: [], kept: ['cegis-refine.sample', 'notify.sample'] });
    expect(await readFile(notify, 'utf8')).toBe('my edits');
    const hooks = JSON.parse((await cli(root, ['hooks', '--json'])).stdout);
    expect(hooks.map((h: any) => [h.name, h.active, h.reason])).toEqual([
      ['cegis-refine.sample', false, 'sample'],
      ['notify.sample', false, 'sample'],
    ]);
  });

  it('runs the CEGIS sample end to end: a simulated failure makes the hook save a refined spec', async () => {
    const root = await tempProject();
    expect((await cli(root, ['init'])).code).toBe(0);
    const hook = join(root, '.ae', 'hooks', 'failure-validation');
    await copyFile(join(root, '.ae', 'hooks', 'cegis-refine.sample'), hook);
    await chmod(hook, 0o755);
    expect((await cli(root, ['save', '-k', 'user_spec', '-i', AE_IR_SAMPLE, '-p', 'phase-5'])).code).toBe(0);
    const context = JSON.stringify({ specKey: 'user_spec', invariant: 'user.email.unique', counterexample: ['user123'] });
    const failed = await cli(root, ['simulate-failure', '-p', 'phase-4', '-t', 'validation', '-m', 'Invariant violation', '-s', 'critical', '--retryable', '--context', context]);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(/hook failure-validation: exit 0/);
    expect(failed.stdout).toMatch(/cegis-refine: refined user_spec/);

    const versions = JSON.parse((await cli(root, ['versions', '-k', 'user_spec', '--json'])).stdout);
    expect(versions.map((v: any) => [v.version, v.source])).toEqual([[2, 'cegis-hook'], [1, 'unknown']]);
    const refined = JSON.parse((await cli(root, ['load', '-k', 'user_spec'])).stdout);
    expect(refined.refinements).toHaveLength(1);
    expect(refined.refinements[0]).toMatchObject({ type: 'validation', invariant: 'user.email.unique', counterexample: ['user123'] });
    expect(refined.invariants.at(-1)).toMatchObject({ expression: 'user.email.unique', source: 'cegis' });

    const hooks = JSON.parse((await cli(root, ['hooks', '--json'])).stdout);
    expect(hooks.find((h: any) => h.name === 'failure-validation').lastRun).toMatchObject({ ok: true, exitCode: 0 });
    const human = await cli(root, ['hooks']);
    expect(human.stdout).toMatch(/failure-validation\s+active\s+\S+\s+exit 0/);
  });

  it('hooks run NAME passes the event file on stdin, records the run and reports a failure', async () => {
    const root = await tempProject();
    await writeHook(root, 'notify', '#!/bin/sh\ncat > "$AE_ROOT/got.json"\necho "$AE_EVENT $AE_KEY $AE_PHASE" > "$AE_ROOT/env.txt"\necho notified\n');
    await writeHook(root, 'broken', '#!/bin/sh\necho oops >&2\nexit 7\n');
    const event = { event: 'failure', key: 'failure_phase-4_2025-01-20T10:00:00.000Z', artifact: { phase: 'phase-4', type: 'test', severity: 'low' } };
    await writeFile(join(root, 'event.json'), JSON.stringify(event));
    const ok = await cli(root, ['hooks', 'run', 'notify', '--event', join(root, 'event.json')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('notified\n');
    expect(JSON.parse(await readFile(join(root, 'got.json'), 'utf8'))).toEqual(event);
    expect((await readFile(join(root, 'env.txt'), 'utf8')).trim()).toBe(`failure ${event.key} phase-4`);

    const bad = await cli(root, ['hooks', 'run', 'broken']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/oops\nhook broken: exit 7/);
    const log = JSON.parse(await readFile(join(root, '.ae', 'local', 'hooks', 'broken.json'), 'utf8'));
    expect(log.runs[0]).toMatchObject({ exitCode: 7, stderrTail: 'oops\n' });
    expect((await cli(root, ['hooks', 'run', 'missing'])).code).toBe(3);
    expect(await readdir(join(root, '.ae', 'local', 'hooks'))).toEqual(['broken.json', 'notify.json']);
  });
});
