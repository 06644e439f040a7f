/**
 * A clone is untrusted input. Each case commits something hostile into the
 * store with real git (`git add -f` past the store's .gitignore): a hook, a
 * symbolic link at one level of `.ae/` pointing inside or outside the
 * project, or a file of the wrong type. Then, in a fresh clone, every CLI
 * command runs, and nothing outside `.ae/` may change (listings of the
 * project and of its parent, contents included) and no hook may run.
 */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAll, git, gitInit } from '../git/git-helpers.js';
import { AE_IR_SAMPLE, runCli, tempProject } from '../helpers.js';

const HOOK_NAMES = ['post-commit', 'post-snapshot', 'post-gc', 'failure', 'failure-validation'];
const HOOK_MARKER = join(tmpdir(), `ae-state-hostile-hook-ran-${process.pid}`);

interface Case {
  name: string;
  /** Makes the hostile change in a working copy of the project (`.ae` is its store). */
  apply(project: string, facts: OriginFacts): Promise<void>;
}

interface OriginFacts {
  fanout: string;
  tagFile: string;
}

const link = (target: string, at: string) => async (project: string) => {
  await rm(join(project, at), { recursive: true, force: true });
  await symlink(target, join(project, at));
};

const CASES: Case[] = [
  { name: 'only committed hooks', apply: async () => undefined },
  { name: '.ae itself is a link outside', apply: link('../outside', '.ae') },
  { name: '.ae/local links to the project root', apply: link('..', '.ae/local') },
  { name: '.ae/local links outside the project', apply: link('../../outside', '.ae/local') },
  { name: '.ae/local/tmp links to the project root', apply: withLocal(link('../..', '.ae/local/tmp')) },
  { name: '.ae/local/tmp links outside the project', apply: withLocal(link('../../../outside', '.ae/local/tmp')) },
  { name: '.ae/local/HEAD links to a project file', apply: withLocal(link('../../123-keep.txt', '.ae/local/HEAD')) },
  { name: '.ae/refs/keys/spec links to the project root', apply: link('../../..', '.ae/refs/keys/spec') },
  { name: '.ae/refs/keys/spec links outside the project', apply: link('../../../../outside', '.ae/refs/keys/spec') },
  { name: '.ae/commits links outside the project', apply: link('../../outside', '.ae/commits') },
  { name: 'an object directory links to the project root', apply: (p, f) => link('../../..', `.ae/objects/${f.fanout}`)(p) },
  { name: 'an object directory links outside', apply: (p, f) => link('../../../../outside', `.ae/objects/${f.fanout}`)(p) },
  { name: 'the legacy database links to a project file', apply: link('../123-keep.txt', '.ae/enhanced-state.db') },
  { name: 'a tag links to a project file', apply: (p, f) => link('../../../123-keep.txt', `.ae/refs/tags/${f.tagFile}`)(p) },
  { name: 'a tag links outside', apply: (p, f) => link('../../../../outside/99.txt', `.ae/refs/tags/${f.tagFile}`)(p) },
  {
    name: 'files of the wrong type',
    apply: async (project, facts) => {
      await rm(join(project, '.ae/refs/keys/spec'), { recursive: true });
      await writeFile(join(project, '.ae/refs/keys/spec'), 'not a directory');
      await rm(join(project, '.ae/FORMAT'));
      await mkdir(join(project, '.ae/FORMAT/x'), { recursive: true });
      await writeFile(join(project, '.ae/FORMAT/x/y'), 'a directory where the marker belongs');
      const [object] = await readdir(join(project, '.ae/objects', facts.fanout));
      await rm(join(project, '.ae/objects', facts.fanout, object!));
      await mkdir(join(project, '.ae/objects', facts.fanout, object!, 'z'), { recursive: true });
      await writeFile(join(project, '.ae/objects', facts.fanout, object!, 'z', 'f'), 'x');
    },
  },
];

function withLocal(apply: (project: string) => Promise<void>) {
  return async (project: string) => {
    await mkdir(join(project, '.ae/local/staging'), { recursive: true });
    await writeFile(join(project, '.ae/local/staging/.keep'), '');
    await apply(project);
  };
}

/** Every entry under `dir` (links not followed): type, size and a hash of the content, or the link's target. */
async function listing(dir: string, skip: (path: string) => boolean): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (current: string): Promise<void> => {
    for (const name of await readdir(current)) {
      const path = join(current, name);
      if (skip(path)) continue;
      const stats = await lstat(path);
      const at = relative(dir, path);
      if (stats.isSymbolicLink()) found.set(at, `link -> ${await readlink(path)}`);
      else if (stats.isDirectory()) {
        found.set(at, 'dir');
        await walk(path);
      } else found.set(at, `file ${stats.size} ${createHash('sha256').update(await readFile(path)).digest('hex')} ${stats.mode.toString(8)}`);
    }
  };
  await walk(dir);
  return found;
}

let origin = '';
let originParent = '';
let facts: OriginFacts;

/** The project everything is cloned from: a store with two keys, a snapshot, and hostile hooks committed with -f. */
async function makeOrigin(): Promise<void> {
  // Not a tempProject: those are removed after each test, and every case clones this one.
  originParent = await mkdtemp(join(tmpdir(), 'ae-state-hostile-'));
  origin = join(originParent, 'origin');
  await mkdir(origin);
  await gitInit(origin);
  const cli = (...args: string[]) => runCli(['--root', origin, ...args]);
  expect((await cli('save', '-k', 'spec', '-i', AE_IR_SAMPLE, '-p', 'phase-1')).code).toBe(0);
  expect((await runCli(['--root', origin, 'save', '-k', 'spec', '-i', '-', '-p', 'phase-1'], { input: '{"v":2}' })).code).toBe(0);
  expect((await runCli(['--root', origin, 'save', '-k', 'other', '-i', '-'], { input: '{"n":1}' })).code).toBe(0);
  expect((await cli('snapshot', '-p', 'phase-1')).code).toBe(0);
  await mkdir(join(origin, '.ae', 'hooks'), { recursive: true });
  for (const hook of HOOK_NAMES) {
    const path = join(origin, '.ae', 'hooks', hook);
    await writeFile(path, `#!/bin/sh\ntouch "$AE_ROOT/../HOOK-RAN-${hook}"\ntouch ${HOOK_MARKER}\n`);
    await chmod(path, 0o755);
  }
  // Names a careless cleanup would take for its own debris.
  await writeFile(join(origin, '123-keep.txt'), 'project file');
  await writeFile(join(origin, '42'), 'project file');
  await writeFile(join(origin, '7.1.x.tmp'), 'project file');
  await commitAll(origin, 'store with hooks');
  await git(origin, 'add', '-f', '.ae/hooks');
  await git(origin, 'commit', '-q', '-m', 'hooks');
  const [fanout] = (await readdir(join(origin, '.ae', 'objects'))).sort();
  const [tagFile] = await readdir(join(origin, '.ae', 'refs', 'tags'));
  facts = { fanout: fanout!, tagFile: tagFile! };
}

/** Clones origin, applies the case, commits it with -f, and clones that: the project as a victim receives it. */
async function hostileClone(testCase: Case): Promise<{ parent: string; project: string }> {
  const parent = await tempProject('ae-state-victim-');
  const work = join(parent, 'work');
  await git(parent, 'clone', '-q', origin, work);
  await testCase.apply(work, facts);
  await git(work, 'add', '-A', '-f', '.');
  await git(work, '-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '--allow-empty', '-m', testCase.name);
  const project = join(parent, 'project');
  await git(parent, 'clone', '-q', work, project);
  await rm(work, { recursive: true, force: true });
  // What a link may point at outside the project.
  await mkdir(join(parent, 'outside', 'refs-like'), { recursive: true });
  await writeFile(join(parent, 'outside', '99.txt'), 'outside file');
  await writeFile(join(parent, 'outside', '1.0123456789abcdef.1.x.tmp'), 'outside file');
  await writeFile(join(parent, 'outside', 'lock.1.0123456789abcdef'), 'outside file');
  await writeFile(join(parent, 'outside', 'refs-like', '2026-01-01T00-00-00.000Z.json'), '{}');
  await mkdir(join(parent, 'inputs'));
  await writeFile(join(parent, 'inputs', 'doc.json'), '{"a":1}');
  return { parent, project };
}

function everyCommand(project: string, parent: string, snapshotId: string): string[][] {
  const input = join(parent, 'inputs', 'doc.json');
  return [
    ['status'],
    ['versions', '-k', 'spec'],
    ['load', '-k', 'spec'],
    ['load', '-k', 'spec', '-v', '1'],
    ['log'],
    ['stats'],
    ['snapshots'],
    ['load-snapshot', '-s', snapshotId],
    ['diff', '-k', 'spec', '-a', '1', '-b', '2'],
    ['failures'],
    ['hooks'],
    ['hooks', 'run', 'post-commit'],
    ['save', '-k', 'spec', '-i', input],
    ['save', '-k', 'fresh', '-i', input],
    ['snapshot', '-p', 'phase-1'],
    ['export', '-o', '-'],
    ['export', '-s', snapshotId, '-o', '-'],
    ['test-tx'],
    ['simulate-failure', '-p', 'phase-4', '-t', 'validation', '-m', 'hostile'],
    ['migrate'],
    ['gc', '--prune', 'now'],
    ['fsck'],
    ['fsck', '--repair'],
    ['init'],
    ['versions', '-k', 'spec'],
    ['save', '-k', 'spec', '-i', input],
    ['gc', '--prune', 'now'],
    ['fsck'],
  ].map((args) => ['--root', project, ...args]);
}

describe('a hostile clone', () => {
  beforeAll(makeOrigin, 120_000);
  afterAll(() => rm(originParent, { recursive: true, force: true }));

  for (const testCase of CASES) {
    it(`${testCase.name}: no command touches anything outside .ae/ and no hook runs`, async () => {
      const { parent, project } = await hostileClone(testCase);
      // The clone really holds what the case committed: a link is a git symlink entry (mode 120000).
      if (testCase.name.includes('link')) expect(await git(project, 'ls-files', '-s')).toMatch(/^120000 /m);
      if (!testCase.name.startsWith('.ae itself')) expect(await git(project, 'ls-files', '.ae/hooks')).toContain('.ae/hooks/post-commit');
      const skip = (path: string) => path.startsWith(join(project, '.ae')) || path.startsWith(join(project, '.git'));
      const before = await listing(parent, skip);
      const snapshotId = facts.tagFile.replace(/\.json$/, '');
      const outcomes: string[] = [];
      let firstFsck: { code: number; stdout: string } | null = null;
      for (const args of everyCommand(project, parent, snapshotId)) {
        const result = await runCli(args, { cwd: parent });
        outcomes.push(`${result.code} ${args.slice(2).join(' ')}: ${result.stderr.trim()}`);
        if (firstFsck === null && args.slice(2).join(' ') === 'fsck') firstFsck = result;
      }
      // fsck names every link it finds, as an error.
      if (testCase.name.includes('link')) expect(firstFsck).toMatchObject({ code: 1, stdout: expect.stringContaining('unsafe-entry') });
      const after = await listing(parent, skip);
      expect([...after], outcomes.join('\n')).toEqual([...before]);
      for (const hook of HOOK_NAMES) expect(after.has(`HOOK-RAN-${hook}`)).toBe(false);
      await expect(lstat(HOOK_MARKER)).rejects.toMatchObject({ code: 'ENOENT' });
      // Where the store is intact, the committed hooks were seen and refused, with the command that trusts them.
      if (testCase.name === 'only committed hooks') expect(outcomes.join('\n')).toContain('ae-state hooks trust post-commit');
    });
  }
});
