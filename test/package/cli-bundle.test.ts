/**
 * bin/cli-bundle.js: the CLI starts from the bundle through the code cache
 * the build wrote, and a cache that is stale, foreign or damaged costs time
 * only, never a wrong start.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AE_IR_SAMPLE, REPO_ROOT, runCli, tempProject } from '../helpers.js';

/** What compileBundle() reports in a fresh process of a package rooted at `pkg`. */
function cacheAcceptedIn(pkg: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const probe = `process.stdout.write(String(require(${JSON.stringify(join(pkg, 'bin', 'cli-bundle.js'))}).compileBundle().cacheAccepted))`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', probe], { env }, (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout === 'true'))),
  );
}

/** A copy of the package's CLI (bin/, scripts/ and dist/cli/), with the rest of dist, the sources and node_modules linked. */
async function copyOfCli(): Promise<string> {
  const pkg = await tempProject('ae-state-cli-copy-');
  for (const dir of ['bin', 'scripts']) await cp(join(REPO_ROOT, dir), join(pkg, dir), { recursive: true });
  await mkdir(join(pkg, 'dist'));
  await cp(join(REPO_ROOT, 'dist', 'cli'), join(pkg, 'dist', 'cli'), { recursive: true });
  for (const linked of ['dist/src', 'src', 'node_modules']) await symlink(join(REPO_ROOT, linked), join(pkg, linked));
  await cp(join(REPO_ROOT, 'package.json'), join(pkg, 'package.json'));
  await cp(join(REPO_ROOT, 'tsconfig.json'), join(pkg, 'tsconfig.json'));
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

const HELP_LINE = 'print the version of ae-state';

describe('the CLI bundle and its code cache', () => {
  it('starts from the cache the build wrote, with this Node', async () => {
    expect(await cacheAcceptedIn(REPO_ROOT)).toBe(true);
  });

  it('runs an edited bundle as edited, even when the edit keeps its length', async () => {
    const pkg = await copyOfCli();
    const bundle = join(pkg, 'dist', 'cli', 'main.cjs');
    const source = await readFile(bundle, 'utf8');
    expect(source).toContain(HELP_LINE);
    // V8 compares only the source's length: the old compiled code would print the old text.
    await writeFile(bundle, source.replace(HELP_LINE, HELP_LINE.toUpperCase()));
    expect(await cacheAcceptedIn(pkg)).toBe(false);
    const help = await runCli(['--help'], { bin: join(pkg, 'bin', 'ae-state.js') });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(HELP_LINE.toUpperCase());
  });

  it('compiles anew from a damaged cache, never runs it', async () => {
    const { project, expected } = await projectWithSpec();
    const pkg = await copyOfCli();
    const cacheFile = join(pkg, 'dist', 'cli', 'main.cjs.cache');
    const cache = await readFile(cacheFile);
    const bundleBytes = (await readFile(join(pkg, 'dist', 'cli', 'main.cjs'))).length;
    const v8Start = cache.indexOf(10) + 1 + bundleBytes;
    const v8Length = (cache.length - v8Start) / 2;
    // Single flipped bytes through V8's bytes (some of which V8 itself accepts and crashes on),
    // a flip in the bundle's copy, and the file cut short.
    const damaged = [0.1, 0.3, 0.5, 0.7, 0.9].map((at) => v8Start + Math.floor(v8Length * at));
    for (const offset of [...damaged, v8Start - 1000]) {
      const flipped = Buffer.from(cache);
      flipped[offset] ^= 0x41;
      await writeFile(cacheFile, flipped);
      expect(await cacheAcceptedIn(pkg), `flip at ${offset}`).toBe(false);
      expect(await runCli(['load', '-k', 'spec'], { cwd: project, bin: join(pkg, 'bin', 'ae-state.js') })).toMatchObject({ code: 0, stdout: expected });
    }
    await writeFile(cacheFile, cache.subarray(0, cache.length - 1));
    expect(await cacheAcceptedIn(pkg)).toBe(false);
    await rm(cacheFile);
    expect(await cacheAcceptedIn(pkg)).toBe(false);
    expect(await runCli(['load', '-k', 'spec'], { cwd: project, bin: join(pkg, 'bin', 'ae-state.js') })).toMatchObject({ code: 0, stdout: expected });
    // The intact cache again: taken.
    await writeFile(cacheFile, cache);
    expect(await cacheAcceptedIn(pkg)).toBe(true);
  });

  it('writes a cache a plain start takes, even when built with NODE_OPTIONS or a bad AE_STATE_ setting, and leaves no warm-up store behind', async () => {
    const pkg = await copyOfCli();
    // The cache is written after save, load and versions ran on a scratch project in the temporary directory,
    // without the builder's AE_STATE_ settings (this one would make every save fail).
    const scratch = await tempProject('ae-state-build-tmp-');
    const flagged = { ...process.env, NODE_OPTIONS: '--max-old-space-size=4096', TMPDIR: scratch, AE_STATE_MAX_VERSIONS: 'none' };
    const stderr = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [join(pkg, 'scripts', 'build-cli.mjs')], { env: flagged }, (error, _out, err) => (error ? reject(new Error(err)) : resolve(err))),
    );
    expect(stderr).toBe('');
    expect(await cacheAcceptedIn(pkg, { ...process.env, NODE_OPTIONS: '' })).toBe(true);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('still writes a cache when the warm-up cannot run, and says so', async () => {
    const pkg = await copyOfCli();
    const missing = join(await tempProject('ae-state-build-tmp-'), 'missing');
    const stderr = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [join(pkg, 'scripts', 'build-cli.mjs')], { env: { ...process.env, TMPDIR: missing } }, (error, _out, err) => (error ? reject(new Error(err)) : resolve(err))),
    );
    expect(stderr).toContain('write-code-cache: warning: the warm-up failed');
    expect(await cacheAcceptedIn(pkg, { ...process.env, NODE_OPTIONS: '' })).toBe(true);
  });

  it('exits 13, not 0, when a command stops before it finishes', async () => {
    const pkg = await copyOfCli();
    // A bundle whose command waits on nothing that will ever happen.
    await writeFile(join(pkg, 'dist', 'cli', 'main.cjs'), 'exports.main = () => new Promise(() => {});\n');
    const result = await runCli(['load', '-k', 'spec'], { bin: join(pkg, 'bin', 'ae-state.js') });
    expect(result.code).toBe(13);
    expect(result.stderr).toContain('ae-state: error: the command stopped before it finished');
  });

  it('resolves the packages a command imports as the bundle would', async () => {
    const { project } = await projectWithSpec();
    expect((await runCli(['save', '-k', 'spec', '-i', join(REPO_ROOT, 'examples', 'ae-ir.json')], { cwd: project })).code).toBe(0);
    // diff imports jsondiffpatch from node_modules through the host's import().
    const diff = await runCli(['diff', '-k', 'spec', '--from', '1', '--to', '2'], { cwd: project });
    expect(diff.stderr).toBe('');
    expect([0, 1]).toContain(diff.code);
    expect(diff.stdout).toContain('diff spec v1');
  });
});
