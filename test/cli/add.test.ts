import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempProject } from '../helpers.js';

async function projectWithSpecs(): Promise<string> {
  const root = await tempProject();
  await mkdir(join(root, 'specs', 'domain'), { recursive: true });
  await writeFile(join(root, 'specs', 'domain', 'user.json'), '{"entity":"User"}');
  await writeFile(join(root, 'specs', 'order.json'), '{"entity":"Order"}');
  return root;
}

async function versionsOf(root: string, key: string): Promise<number[]> {
  const result = await runCli(['versions', '-k', key, '--json'], { cwd: root });
  return result.code === 0 ? (JSON.parse(result.stdout) as Array<{ version: number }>).map((v) => v.version) : [];
}

describe('CLI: add', () => {
  it('saves changed files as the next versions of keys named by their paths, and reports unchanged ones', async () => {
    const root = await projectWithSpecs();
    const first = await runCli(['add', 'specs/**/*.json', '-p', 'phase-5'], { cwd: root });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('saved     specs/domain/user.json → specs.domain.user (version 1)');
    expect(first.stdout).toMatch(/2 saved, 0 unchanged\n$/);
    await writeFile(join(root, 'specs', 'order.json'), '{"entity":"Order","v":2}');
    const second = await runCli(['add', 'specs/**/*.json'], { cwd: root });
    expect(second.stdout).toContain('unchanged specs/domain/user.json → specs.domain.user (version 1)');
    expect(second.stdout).toContain('saved     specs/order.json → specs.order (version 2)');
    expect(await versionsOf(root, 'specs.domain.user')).toEqual([1]);
    expect(await versionsOf(root, 'specs.order')).toEqual([2, 1]);
    const entry = JSON.parse((await runCli(['load', '-k', 'specs.domain.user', '--json'], { cwd: root })).stdout);
    expect(entry.metadata).toMatchObject({ phase: 'phase-5', source: 'specs/domain/user.json' });
  });

  it('publishes every changed file in one commit', async () => {
    const root = await projectWithSpecs();
    await runCli(['add', 'specs/**/*.json'], { cwd: root });
    const log = JSON.parse((await runCli(['log', '--json'], { cwd: root })).stdout) as Array<{ keys?: string[]; operations?: unknown[] }>;
    expect(log).toHaveLength(1);
  });

  it('takes patterns relative to the current directory, keys relative to the project root', async () => {
    const root = await projectWithSpecs();
    await runCli(['init'], { cwd: root });
    const result = await runCli(['add', 'domain/*.json', '../specs/order.json'], { cwd: join(root, 'specs') });
    expect(result.code, result.stderr).toBe(0);
    expect(await versionsOf(root, 'specs.domain.user')).toEqual([1]);
    expect(await versionsOf(root, 'specs.order')).toEqual([1]);
  });

  it('takes keys from a field with --key-from field:NAME', async () => {
    const root = await projectWithSpecs();
    await writeFile(join(root, 'specs', 'order.json'), '{"entity":"Order","key":"orders.main"}');
    await writeFile(join(root, 'specs', 'domain', 'user.json'), '{"key":"users.main"}');
    expect((await runCli(['add', 'specs/**/*.json', '--key-from', 'field:key'], { cwd: root })).code).toBe(0);
    expect(await versionsOf(root, 'orders.main')).toEqual([1]);
    expect(await versionsOf(root, 'users.main')).toEqual([1]);
  });

  it('saves nothing with --dry-run', async () => {
    const root = await projectWithSpecs();
    const result = await runCli(['add', 'specs/**/*.json', '--dry-run'], { cwd: root });
    expect(result.stdout).toContain('would save specs/order.json → specs.order');
    expect(result.stdout).toContain('nothing saved');
    expect(existsSync(join(root, '.ae'))).toBe(false);
  });

  it('fails the whole add on a file that is not valid JSON, naming it, and saves nothing', async () => {
    const root = await projectWithSpecs();
    await writeFile(join(root, 'specs', 'zz-bad.json'), '{\n  "a": ,\n}');
    const result = await runCli(['add', 'specs/**/*.json'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ae-state: error: specs\/zz-bad\.json is not valid JSON at line 2, column 8: /);
    expect(existsSync(join(root, '.ae'))).toBe(false);
  });

  it('refuses patterns that leave the project root and does not follow symbolic links', async () => {
    const root = await projectWithSpecs();
    await runCli(['init'], { cwd: root });
    const outside = await tempProject();
    await writeFile(join(outside, 'secret.json'), '{"secret":true}');
    await symlink(join(outside, 'secret.json'), join(root, 'specs', 'link.json'));
    await symlink(outside, join(root, 'specs', 'linked-dir'));
    for (const pattern of ['../*.json', `${outside}/*.json`, 'specs/**/../../../x.json']) {
      const refused = await runCli(['add', pattern], { cwd: root });
      expect(refused.code, pattern).toBe(1);
      expect(refused.stderr, pattern).toContain('reaches outside the project root');
    }
    const result = await runCli(['add', 'specs/**/*.json', '--json'], { cwd: root });
    const parsed = JSON.parse(result.stdout) as { files: Array<{ file: string }>; skippedLinks: string[] };
    expect(parsed.files.map((f) => f.file)).toEqual(['specs/domain/user.json', 'specs/order.json']);
    expect(parsed.skippedLinks).toEqual(['specs/link.json']);
  });

  it('does not read files through a symbolically linked directory, whatever the pattern', async () => {
    const root = await projectWithSpecs();
    await runCli(['init'], { cwd: root });
    const outside = await tempProject();
    await writeFile(join(outside, 'secret.json'), '{"secret":true}');
    await symlink(outside, join(root, 'specs', 'linked-dir'));
    for (const pattern of ['specs/linked-dir/*.json', 'specs/linked-dir/secret.json']) {
      const result = await runCli(['add', pattern, '--json'], { cwd: root });
      expect(result.code, pattern).toBe(0);
      const parsed = JSON.parse(result.stdout) as { files: unknown[]; skippedLinks: string[] };
      expect(parsed.files, pattern).toEqual([]);
      expect(parsed.skippedLinks, pattern).toEqual(['specs/linked-dir']);
    }
    expect(await versionsOf(root, 'specs.linked-dir.secret')).toEqual([]);
    const human = await runCli(['add', 'specs/linked-dir/*.json'], { cwd: root });
    expect(human.stdout).toContain('skipped   specs/linked-dir (a symbolic link; add does not follow links)');
  });

  it('refuses a mistyped --key-from as a usage error, before reading any file', async () => {
    const root = await projectWithSpecs();
    const result = await runCli(['add', 'specs/**/*.json', '--key-from', 'feild:id'], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ae-state: error: option '--key-from <source>' argument 'feild:id' is invalid\. must be "path" or "field:NAME"\n/);
    expect(existsSync(join(root, '.ae'))).toBe(false);
  });

  it('says when a pattern matches nothing', async () => {
    const root = await projectWithSpecs();
    const result = await runCli(['add', 'nothing/*.json'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('ae-state: error: pattern "nothing/*.json" matched no files\n');
  });
});
