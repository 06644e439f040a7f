/**
 * bin/cli-bundle.js: the CLI starts from the bundle through the code cache
 * the build wrote, and a cache that is stale, foreign or damaged costs time
 * only, never a wrong start.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AE_IR_SAMPLE, REPO_ROOT, runCli, tempProject } from '../helpers.js';

/** What compileBundle() reports in a fresh process of a package rooted at `pkg`. */
function cacheAcceptedIn(pkg: string): Promise<boolean> {
  const probe = `process.stdout.write(String(require(${JSON.stringify(join(pkg, 'bin', 'cli-bundle.js'))}).compileBundle().cacheAccepted))`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', probe], (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout === 'true'))),
  );
}

/** A copy of the package's CLI (bin/ and dist/cli/), with the rest of dist and node_modules linked. */
async function copyOfCli(): Promise<string> {
  const pkg = await tempProject('ae-state-cli-copy-');
  await cp(join(REPO_ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  await mkdir(join(pkg, 'dist'));
  await cp(join(REPO_ROOT, 'dist', 'cli'), join(pkg, 'dist', 'cli'), { recursive: true });
  await symlink(join(REPO_ROOT, 'dist', 'src'), join(pkg, 'dist', 'src'));
  await symlink(join(REPO_ROOT, 'node_modules'), join(pkg, 'node_modules'));
  await cp(join(REPO_ROOT, 'package.json'), join(pkg, 'package.json'));
  return pkg;
}

/** A project with one saved version, and what `load` prints of it with the package's own CLI. */
async function projectWithSpec(): Promise<{ project: string; expected: string }> {
  const project = await tempProject();
  expect((await runCli(['save', '-k', 'spec', '-i', AE_IR_SAMPLE], { cwd: project })).code).toBe(0);
  const loaded = await runCli(['load', '-k', 'spec'], { cwd: project });
  expect(loaded.code).toBe(0);
  expect(JSON.parse(loaded.stdout)).toEqual(JSON.parse(await readFile(AE_IR_SAMPLE, 'utf8')));
  return { project, expected: loaded.stdout };
}

describe('the CLI bundle and its code cache', () => {
  it('starts from the cache the build wrote, with this Node', async () => {
    expect(await cacheAcceptedIn(REPO_ROOT)).toBe(true);
  });

  it('ignores a cache stamped for other bundle bytes, and prints the same', async () => {
    const { project, expected } = await projectWithSpec();
    const pkg = await copyOfCli();
    const cacheFile = join(pkg, 'dist', 'cli', 'main.cjs.cache');
    const cache = await readFile(cacheFile);
    await writeFile(cacheFile, Buffer.concat([Buffer.from('0'.repeat(64), 'latin1'), cache.subarray(64)]));
    expect(await cacheAcceptedIn(pkg)).toBe(false);
    const result = await runCli(['load', '-k', 'spec'], { cwd: project, bin: join(pkg, 'bin', 'ae-state.js') });
    expect(result).toMatchObject({ code: 0, stdout: expected });
  });

  it('compiles anew when V8 refuses the cache bytes, or when there is no cache', async () => {
    const { project, expected } = await projectWithSpec();
    const pkg = await copyOfCli();
    const cacheFile = join(pkg, 'dist', 'cli', 'main.cjs.cache');
    const cache = await readFile(cacheFile);
    // The right stamp, then bytes V8 did not write: its own header check refuses them.
    await writeFile(cacheFile, Buffer.concat([cache.subarray(0, 64), Buffer.alloc(cache.length - 64, 0x5a)]));
    expect(await cacheAcceptedIn(pkg)).toBe(false);
    expect(await runCli(['load', '-k', 'spec'], { cwd: project, bin: join(pkg, 'bin', 'ae-state.js') })).toMatchObject({ code: 0, stdout: expected });
    await rm(cacheFile);
    expect(await cacheAcceptedIn(pkg)).toBe(false);
    expect(await runCli(['load', '-k', 'spec'], { cwd: project, bin: join(pkg, 'bin', 'ae-state.js') })).toMatchObject({ code: 0, stdout: expected });
  });

  it('refuses a bundle without its build stamp, saying how to rebuild', async () => {
    const { project, expected } = await projectWithSpec();
    const pkg = await copyOfCli();
    const bundle = join(pkg, 'dist', 'cli', 'main.cjs');
    await writeFile(bundle, (await readFile(bundle, 'utf8')).replace(/\n\/\/ ae-state build [0-9a-f]{64}\n$/, '\n'));
    const result = await runCli(['load', '-k', 'spec'], { cwd: project, bin: join(pkg, 'bin', 'ae-state.js') });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('carries no build stamp: run "npm run build"');
  });

  it('resolves the packages a command imports as the bundle would', async () => {
    const { project, expected } = await projectWithSpec();
    expect((await runCli(['save', '-k', 'spec', '-i', join(REPO_ROOT, 'examples', 'ae-ir.json')], { cwd: project })).code).toBe(0);
    // diff imports jsondiffpatch from node_modules through the host's import().
    const diff = await runCli(['diff', '-k', 'spec', '--from', '1', '--to', '2'], { cwd: project });
    expect(diff.stderr).toBe('');
    expect([0, 1]).toContain(diff.code);
    expect(diff.stdout).toContain('diff spec v1');
  });
});
