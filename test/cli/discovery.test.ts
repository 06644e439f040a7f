import { existsSync } from 'node:fs';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, runCli, tempProject } from '../helpers.js';

const EXIT_NO_STORE = 4;

describe('CLI: finding the store as git finds .git', () => {
  it('reads the project store from a subdirectory instead of creating a stray one', async () => {
    const root = await tempProject();
    expect((await runCli(['save', '-k', 'spec', '-i', '-'], { cwd: root, input: '{"v":1}' })).code).toBe(0);
    const sub = join(root, 'src', 'deep');
    await mkdir(sub, { recursive: true });
    const loaded = await runCli(['load', '-k', 'spec'], { cwd: sub });
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(JSON.parse(loaded.stdout)).toEqual({ v: 1 });
    // Writes from a subdirectory go to the same store.
    expect((await runCli(['save', '-k', 'spec', '-i', '-'], { cwd: sub, input: '{"v":2}' })).code).toBe(0);
    expect(JSON.parse((await runCli(['versions', '-k', 'spec', '--json'], { cwd: root })).stdout)).toHaveLength(2);
    expect(existsSync(join(sub, '.ae'))).toBe(false);
    expect(existsSync(join(root, 'src', '.ae'))).toBe(false);
  });

  it('stops at the top of the enclosing git work tree', async () => {
    const outer = await tempProject();
    await runCli(['init'], { cwd: outer });
    const repo = join(outer, 'repo');
    await mkdir(join(repo, 'sub'), { recursive: true });
    await run('git', ['init', '-q'], repo);
    const result = await runCli(['versions', '-k', 'spec'], { cwd: join(repo, 'sub') });
    expect(result.code).toBe(EXIT_NO_STORE);
    expect(result.stderr).toBe(`ae-state: error: no ae-state store in ${await realpath(join(repo, 'sub'))} or its parents (run ae-state init)\n`);
  });

  it('finds the store at the top of the git work tree from deep inside it', async () => {
    const repo = await tempProject();
    await run('git', ['init', '-q'], repo);
    await runCli(['save', '-k', 'spec', '-i', '-'], { cwd: repo, input: '{"v":1}' });
    await mkdir(join(repo, 'a', 'b'), { recursive: true });
    expect((await runCli(['load', '-k', 'spec'], { cwd: join(repo, 'a', 'b') })).code).toBe(0);
  });

  it('creates the first store at the top of the git work tree when the first write runs in a subdirectory', async () => {
    const repo = await tempProject();
    await run('git', ['init', '-q'], repo);
    const sub = join(repo, 'specs', 'domain');
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, 'user.json'), '{"entity":"User"}');
    expect((await runCli(['save', '-k', 'spec', '-i', '-'], { cwd: sub, input: '{"v":1}' })).code).toBe(0);
    expect((await runCli(['add', '*.json'], { cwd: sub })).code).toBe(0);
    expect(existsSync(join(sub, '.ae'))).toBe(false);
    expect(existsSync(join(repo, '.ae'))).toBe(true);
    expect((await runCli(['load', '-k', 'spec'], { cwd: repo })).code).toBe(0);
    expect((await runCli(['load', '-k', 'specs.domain.user'], { cwd: repo })).code).toBe(0);
  });

  it('takes --root and AE_STATE_ROOT over discovery, --root first', async () => {
    const a = await tempProject();
    const b = await tempProject();
    await runCli(['save', '-k', 'which', '-i', '-'], { cwd: a, input: '"a"' });
    await runCli(['save', '-k', 'which', '-i', '-'], { cwd: b, input: '"b"' });
    expect((await runCli(['load', '-k', 'which'], { cwd: a, env: { AE_STATE_ROOT: b } })).stdout.trim()).toBe('"b"');
    expect((await runCli(['--root', a, 'load', '-k', 'which'], { cwd: b, env: { AE_STATE_ROOT: b } })).stdout.trim()).toBe('"a"');
  });

  it('read-only commands, gc and hooks run on a directory without a store say so in one line, exit 4 and create nothing', async () => {
    const root = await tempProject();
    const real = await realpath(root);
    const commands = [
      ['load', '-k', 'x'], ['versions', '-k', 'x'], ['log'], ['stats'], ['fsck'], ['diff', '-k', 'x'], ['failures'],
      ['snapshots'], ['load-snapshot', '-s', 'snapshot_p_2025-01-20T10:00:00.000Z'], ['status'], ['hooks'], ['export', '-o', '-'],
      ['config', 'list'], ['config', 'get', 'maxVersions'], ['gc'], ['hooks', 'run', 'post-gc'],
    ];
    for (const args of commands) {
      const result = await runCli(args, { cwd: root });
      expect(result.code, args.join(' ')).toBe(EXIT_NO_STORE);
      expect(result.stderr, args.join(' ')).toBe(`ae-state: error: no ae-state store in ${real} or its parents (run ae-state init)\n`);
      expect(result.stdout).toBe('');
    }
    const json = await runCli(['load', '-k', 'x', '--json'], { cwd: root });
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'NO_STORE', message: expect.stringContaining('no ae-state store in'), data: { path: real } } });
    expect(existsSync(join(root, '.ae'))).toBe(false);
  });

  it('refuses to write into a --root or AE_STATE_ROOT that does not exist, rather than create it', async () => {
    const parent = await tempProject();
    const missing = join(parent, 'typo');
    const byOption = await runCli(['--root', missing, 'save', '-k', 'k', '-i', '-'], { cwd: parent, input: '{}' });
    expect(byOption.code).toBe(2);
    expect(byOption.stderr).toBe(`ae-state: error: --root ${missing} is not a directory\n`);
    const byEnv = await runCli(['config', 'set', 'maxVersions', '3'], { cwd: parent, env: { AE_STATE_ROOT: missing } });
    expect(byEnv.code).toBe(2);
    expect(byEnv.stderr).toBe(`ae-state: error: AE_STATE_ROOT ${missing} is not a directory\n`);
    expect(existsSync(missing)).toBe(false);
    expect((await runCli(['--root', missing, 'init'], { cwd: parent })).code).toBe(0);
    expect(existsSync(join(missing, '.ae'))).toBe(true);
  });

  it('names the --root directory alone when it has no store', async () => {
    const root = await tempProject();
    const result = await runCli(['--root', root, 'log'], {});
    expect(result.code).toBe(EXIT_NO_STORE);
    expect(result.stderr).toContain(`no ae-state store in ${root} (run ae-state init)`);
  });

  it('init creates its store where it runs, as git init does, even inside another project', async () => {
    const root = await tempProject();
    await runCli(['init'], { cwd: root });
    const sub = join(root, 'packages', 'app');
    await mkdir(sub, { recursive: true });
    const result = await runCli(['init'], { cwd: sub });
    expect(result.stdout).toMatch(/^Initialized ae-state store in .*packages\/app\/\.ae\n/);
    expect(existsSync(join(sub, '.ae'))).toBe(true);
  });

  it('init in an existing store says it reinitialized it', async () => {
    const root = await tempProject();
    expect((await runCli(['init'], { cwd: root })).stdout).toMatch(/^Initialized ae-state store in /);
    expect((await runCli(['init'], { cwd: root })).stdout).toMatch(/^Reinitialized existing ae-state store in .*\.ae\n/);
  });
});
