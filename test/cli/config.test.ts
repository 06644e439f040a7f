import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempProject } from '../helpers.js';

describe('CLI: config', () => {
  it('sets, gets and lists settings with where each comes from, and saves follow them', async () => {
    const root = await tempProject();
    const set = await runCli(['config', 'set', 'maxVersions', '2'], { cwd: root });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^set maxVersions = 2 in .*\.ae\/config\.json\n$/);
    expect(JSON.parse(await readFile(join(root, '.ae', 'config.json'), 'utf8'))).toEqual({ maxVersions: 2 });
    expect((await runCli(['config', 'get', 'maxVersions'], { cwd: root })).stdout).toBe('2\n');
    expect((await runCli(['config', 'get', 'maxVersions'], { cwd: root, env: { AE_STATE_MAX_VERSIONS: '5' } })).stdout).toBe('5\n');
    const list = JSON.parse((await runCli(['config', 'list', '--json'], { cwd: root, env: { AE_STATE_HOOK_TIMEOUT: '3' } })).stdout);
    expect(list.maxVersions).toEqual({ value: 2, source: 'config' });
    expect(list.hookTimeout).toEqual({ value: 3, source: 'environment' });
    expect(list.lockTimeout).toEqual({ value: 30, source: 'default' });
    for (let i = 1; i <= 3; i++) await runCli(['save', '-k', 'spec', '-i', '-'], { cwd: root, input: `{"i":${i}}` });
    expect(JSON.parse((await runCli(['versions', '-k', 'spec', '--json'], { cwd: root })).stdout)).toHaveLength(2);
    expect((await runCli(['config', 'unset', 'maxVersions'], { cwd: root })).code).toBe(0);
    expect((await runCli(['config', 'get', 'maxVersions'], { cwd: root })).stdout).toBe('10\n');
  });

  it('refuses unknown settings and bad values as usage errors, naming them', async () => {
    const root = await tempProject();
    const unknown = await runCli(['config', 'set', 'maxVerions', '3'], { cwd: root });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^ae-state: error: unknown setting "maxVerions" \(did you mean maxVersions\?\)\nhint: settings: maxVersions, /);
    const far = await runCli(['config', 'set', 'colour', '1'], { cwd: root });
    expect(far.stderr).toMatch(/^ae-state: error: unknown setting "colour"\nhint: settings: /);
    const bad = await runCli(['config', 'set', 'maxVersions', 'ten'], { cwd: root });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('ae-state: error: maxVersions must be an integer >= 1 (got "ten")\n');
  });

  it('refuses a config file with an unknown key in every command, naming the key', async () => {
    const root = await tempProject();
    await runCli(['init'], { cwd: root });
    await writeFile(join(root, '.ae', 'config.json'), '{"maxVersion": 3}');
    const result = await runCli(['load', '-k', 'x'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('config.json has no setting "maxVersion" (did you mean maxVersions?)');
  });

  it('refuses a databasePath that leaves the store, so a cloned config cannot make a save rename a file outside it', async () => {
    const parent = await tempProject();
    const root = join(parent, 'clone');
    await mkdir(root);
    await runCli(['init'], { cwd: root });
    await runCli(['save', '-k', 'spec', '-i', '-'], { cwd: root, input: '{"a":1}' });
    const backup = join(parent, 'victim.db');
    expect((await runCli(['export', '-o', backup], { cwd: root })).code).toBe(0);
    for (const path of ['../victim.db', backup, '.ae/../../victim.db']) {
      await writeFile(join(root, '.ae', 'config.json'), JSON.stringify({ databasePath: path }));
      const save = await runCli(['save', '-k', 'other', '-i', '-'], { cwd: root, input: '{"b":1}' });
      expect(save.code, path).toBe(1);
      expect(save.stderr, path).toContain('config.json: option databasePath must be a relative path to a file inside the store directory');
      expect(existsSync(backup), path).toBe(true);
    }
    await writeFile(join(root, '.ae', 'config.json'), '{}');
    const set = await runCli(['config', 'set', 'databasePath', '../victim.db'], { cwd: root });
    expect(set.code).toBe(2);
    expect(set.stderr).toMatch(/^ae-state: error: databasePath must be a relative path to a file inside the store directory/);
    expect((await runCli(['config', 'set', 'databasePath', '.ae/old.db'], { cwd: root })).code).toBe(0);
  });

  it('names the line and column of a syntax error in the config file, with the line quoted', async () => {
    const root = await tempProject();
    await runCli(['init'], { cwd: root });
    await writeFile(join(root, '.ae', 'config.json'), '{\n  "maxVersions": 3,\n}\n');
    const result = await runCli(['load', '-k', 'x'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `ae-state: error: ${join(root, '.ae', 'config.json')} is not valid JSON at line 3, column 1: expected double-quoted property name\n  }\n  ^\n`,
    );
    const json = JSON.parse((await runCli(['load', '-k', 'x', '--json'], { cwd: root })).stderr);
    expect(json.error).toMatchObject({ code: 'INVALID_OPTION', data: { line: 3, column: 1 } });
  });

  it('get and list need a store, like every read', async () => {
    const root = await tempProject();
    expect((await runCli(['config', 'list'], { cwd: root })).code).toBe(4);
  });
});
