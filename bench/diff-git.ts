/**
 * Diffing and git integration: what git provenance adds to a save (in
 * process and for a CLI save), diffs of AE-IR documents, and reading a
 * version from git history, each against a raw reference of the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnhancedStateManager } from '../src/index.js';
import { diffDocuments } from '../src/diff/diff-documents.js';
import { readGitProvenance } from '../src/git/provenance.js';
import { benchDir, fmt, largeAeIr, median, printTable, ratio, REPO_ROOT, sampleAeIr } from './fixtures.js';

const CLI = join(REPO_ROOT, 'bin', 'ae-state.js');
const GIT_ID = ['-c', 'user.email=bench@example.com', '-c', 'user.name=Bench', '-c', 'commit.gpgsign=false'];

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', [...GIT_ID, ...args], { cwd, stdio: 'ignore' });
}

async function gitProject(name: string): Promise<string> {
  const root = await benchDir(name);
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'commit', '-q', '--allow-empty', '-m', 'initial');
  return root;
}

/** Mean ms per call of `work` over `count` calls, after a warm-up. */
async function perCall(count: number, work: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 5; i++) await work(-1 - i);
  const start = performance.now();
  for (let i = 0; i < count; i++) await work(i);
  return (performance.now() - start) / count;
}

async function provenanceRows(): Promise<string[][]> {
  const root = await gitProject('prov');
  const gitDir = join(root, '.git');
  const provenance = await perCall(2000, () => readGitProvenance(root));
  // The least provenance can cost: reading HEAD and the branch file it names.
  const raw = await perCall(2000, async () => {
    await readFile(join(gitDir, 'HEAD'), 'utf8');
    await readFile(join(gitDir, 'refs', 'heads', 'main'), 'utf8');
  });
  const doc = sampleAeIr();
  const savers = [true, false].map((recordGitProvenance) => new EnhancedStateManager(root, { gcInterval: 0, recordGitProvenance }));
  const times = [0, 0];
  // Interleaved rounds in alternating order, so drift in the machine's speed
  // and whichever runs first in a round hit both alike.
  const rounds = 6;
  for (let round = 0; round < rounds; round++) {
    for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
      times[i]! += (await perCall(25, (n) => savers[i]!.saveSSOT(`k${i}`, { ...doc, n, round }))) / rounds;
    }
  }
  await Promise.all(savers.map((m) => m.shutdown()));
  return [
    ['git provenance of HEAD (warm)', fmt(provenance, 4), 'read HEAD + branch ref', fmt(raw, 4), ratio(provenance / raw)],
    ['saveSSOT in git, provenance on', fmt(times[0]!), 'same, recordGitProvenance: false', fmt(times[1]!), ratio(times[0]! / times[1]!)],
  ];
}

/** A CLI save inside a git repository against one outside git: what provenance adds to a user's `ae-state save`. */
async function cliRows(): Promise<string[][]> {
  const inGit = await gitProject('cli-git');
  const outside = await benchDir('cli-plain');
  const input = join(outside, 'spec.json');
  await writeFile(input, JSON.stringify(sampleAeIr()));
  const runs: Record<string, number[]> = { git: [], plain: [] };
  for (let i = 0; i < 12; i++) {
    for (const [label, root] of [['git', inGit], ['plain', outside]] as const) {
      const start = performance.now();
      const result = spawnSync(process.execPath, [CLI, '--root', root, 'save', '-k', 'spec', '-i', input], { stdio: 'ignore' });
      if (result.status !== 0) throw new Error(`ae-state save failed in ${root}`);
      runs[label]!.push(performance.now() - start);
    }
  }
  const [g, p] = [median(runs.git!), median(runs.plain!)];
  // The part of a CLI save that provenance adds, without process start-up noise:
  // the first call in a fresh process (repository discovery included).
  const module = join(REPO_ROOT, 'dist', 'src', 'git', 'provenance.js');
  const script = `const { readGitProvenance } = await import(${JSON.stringify(module)}); const t = performance.now(); await readGitProvenance(${JSON.stringify(inGit)}); console.log(performance.now() - t);`;
  const cold = Array.from({ length: 10 }, () => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })));
  const c = median(cold);
  return [
    ['CLI save in git (median of 12)', fmt(g, 1), 'CLI save outside git', fmt(p, 1), `${ratio(g / p)} (${g >= p ? '+' : '-'}${fmt(Math.abs(g - p), 1)} ms)`],
    ['first provenance call in a new process', fmt(c, 3), 'CLI save outside git', fmt(p, 1), `${fmt((100 * c) / p, 2)}% of a save`],
  ];
}

async function diffRows(): Promise<string[][]> {
  const rows: string[][] = [];
  for (const [label, doc] of [['AE-IR sample (1.9 KB)', sampleAeIr()], ['AE-IR grown to 60 KB', largeAeIr()]] as const) {
    const edited = structuredClone(doc) as Record<string, any>;
    edited.domain.unshift({ name: 'Inserted', fields: [] });
    edited.invariants = [];
    const [from, to] = [doc, edited].map((d) => JSON.parse(JSON.stringify(d)) as unknown);
    const count = label.startsWith('AE-IR sample') ? 500 : 50;
    const diff = await perCall(count, () => diffDocuments(from, to));
    // The least any comparison does: serialise both documents and compare them.
    const raw = await perCall(count, async () => JSON.stringify(from) === JSON.stringify(to));
    rows.push([`diff, ${label}, 1 insert + 1 removal`, fmt(diff), 'JSON.stringify both + compare', fmt(raw, 4), ratio(diff / raw)]);
  }
  return rows;
}

async function historyRows(): Promise<string[][]> {
  const root = await gitProject('history');
  const manager = new EnhancedStateManager(root, { gcInterval: 0 });
  for (let i = 0; i < 20; i++) await manager.saveSSOT('spec', { ...sampleAeIr(), i });
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'state');
  await manager.saveSSOT('spec', { ...sampleAeIr(), i: 'new' });
  const atRevision = await perCall(100, () => manager.loadSSOT('spec', { at: 'HEAD' }));
  const onDisk = await perCall(100, () => manager.loadSSOT('spec', 20));
  await manager.shutdown();
  return [['loadSSOT {at: "HEAD"} (from git objects)', fmt(atRevision), 'loadSSOT of the same version on disk', fmt(onDisk), ratio(atRevision / onDisk)]];
}

export async function runDiffGitBench(): Promise<void> {
  const rows = [...(await provenanceRows()), ...(await cliRows()), ...(await diffRows()), ...(await historyRows())];
  printTable(['operation', 'ms/op', 'raw reference', 'reference ms/op', 'ratio'], rows);
}
