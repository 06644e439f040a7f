import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AE_FRAMEWORK_CLI, AE_IR_SAMPLE, CLI, readAeIr, runCli, tempProject } from '../helpers.js';

describe('CLI: save, load, versions, stats, log, test-tx', () => {
  it('saves, lists and loads versions as the reference shows, with either spelling', async () => {
    const root = await tempProject();
    const saved = await runCli(['enhanced-state', 'save', '-k', 'user_spec', '-i', AE_IR_SAMPLE, '-p', 'phase-5', '--source', 'domain_modeling'], {
      cwd: root,
      bin: AE_FRAMEWORK_CLI,
    });
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toMatch(/saved user_spec_\d{4}-.*Z \(version 1\)/);

    const edited = join(root, 'v2.json');
    await writeFile(edited, JSON.stringify({ ...(await readAeIr()), version: '2.0.0' }));
    expect((await runCli(['--root', root, 'save', '-k', 'user_spec', '-i', edited, '--tags', '{"environment":"ci"}', '--ttl', '3600'])).code).toBe(0);

    const versions = await runCli(['versions', '-k', 'user_spec', '--json'], { cwd: root });
    const list = JSON.parse(versions.stdout) as Array<{ version: number; phase?: string; tags: Record<string, string> }>;
    expect(list.map((v) => v.version)).toEqual([2, 1]);
    expect(list[1]!.phase).toBe('phase-5');
    expect(list[0]!.tags).toEqual({ environment: 'ci' });

    const human = await runCli(['versions', '-k', 'user_spec'], { cwd: root });
    expect(human.stdout).toMatch(/VERSION\s+TIMESTAMP/);
    expect(human.stdout).not.toContain('\u001b[');

    const out = join(root, 'spec-v1.json');
    const loaded = await runCli(['enhanced-state', 'load', '-k', 'user_spec', '-v', '1', '-o', out], { cwd: root, bin: AE_FRAMEWORK_CLI });
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(await readAeIr());

    const latest = await runCli(['load', '-k', 'user_spec'], { cwd: root });
    expect((JSON.parse(latest.stdout) as { version: string }).version).toBe('2.0.0');

    const entry = await runCli(['load', '-k', 'user_spec', '--json'], { cwd: root });
    expect(JSON.parse(entry.stdout)).toMatchObject({ version: 2, logicalKey: 'user_spec', ttl: 3600, tags: { environment: 'ci' } });
  });

  it('keeps a version saved with --ttl 0 through gc, as the API does; a negative ttl is a usage error', async () => {
    const root = await tempProject();
    expect((await runCli(['save', '-k', 'pinned', '-i', AE_IR_SAMPLE, '--ttl', '0'], { cwd: root })).code).toBe(0);
    expect((await runCli(['save', '-k', 'pinned', '-i', '-', '--ttl', '0.001'], { cwd: root, input: '{"n":2}' })).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await runCli(['gc', '--prune=now'], { cwd: root })).code).toBe(0);
    const entry = await runCli(['load', '-k', 'pinned', '-v', '1', '--json'], { cwd: root });
    expect(entry.code, entry.stderr).toBe(0);
    expect(JSON.parse(entry.stdout)).toMatchObject({ version: 1, ttl: 0 });
    const negative = await runCli(['save', '-k', 'pinned', '-i', AE_IR_SAMPLE, '--ttl', '-1'], { cwd: root });
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('--ttl');
  });

  it('reads the data to save from standard input', async () => {
    const root = await tempProject();
    expect((await runCli(['save', '-k', 'piped', '-i', '-'], { cwd: root, input: '{"from":"stdin"}' })).code).toBe(0);
    expect(JSON.parse((await runCli(['load', '-k', 'piped'], { cwd: root })).stdout)).toEqual({ from: 'stdin' });
  });

  it('exits 3 when the key or version does not exist', async () => {
    const root = await tempProject();
    await runCli(['init'], { cwd: root });
    const missing = await runCli(['load', '-k', 'nothing'], { cwd: root });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('"nothing" not found');
    await runCli(['save', '-k', 'one', '-i', '-'], { cwd: root, input: '1' });
    expect((await runCli(['load', '-k', 'one', '-v', '2'], { cwd: root })).code).toBe(3);
    expect((await runCli(['versions', '-k', 'nothing'], { cwd: root })).code).toBe(3);
  });

  it('exits 1 with one error line naming the file and position for bad JSON, then the quoted line, and writes nothing', async () => {
    const root = await tempProject();
    const bad = join(root, 'bad.json');
    await writeFile(bad, '{\n  "a": 1,\n  "b": }\n');
    const result = await runCli(['save', '-k', 'k', '-i', bad], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(3);
    expect(result.stderr).toContain(`ae-state: error: ${bad} is not valid JSON at line 3, column 8`);
    // Nothing was written: not even an empty store.
    expect((await runCli(['load', '-k', 'k'], { cwd: root })).code).toBe(4);
  });

  it('exits 1 for an invalid key, naming the rule', async () => {
    const root = await tempProject();
    const result = await runCli(['save', '-k', '../escape', '-i', '-'], { cwd: root, input: '{}' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('may not contain "/"');
  });

  it('exits 2 on usage errors', async () => {
    const root = await tempProject();
    expect((await runCli(['save', '-k', 'k'], { cwd: root })).code).toBe(2);
    expect((await runCli(['load', '-k', 'k', '-v', 'two'], { cwd: root })).code).toBe(2);
    expect((await runCli(['no-such-command'], { cwd: root })).code).toBe(2);
    expect((await runCli(['save', '-k', 'k', '-i', '-', '--tags', '[1]'], { cwd: root })).code).toBe(2);
    const help = await runCli(['--help'], { cwd: root });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--root <dir>');
  });

  it('stops quietly when its output pipe is closed early', async () => {
    const root = await tempProject();
    // Larger than a pipe's buffer, so the writer is still writing when the reader goes.
    const big = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ id: i, text: 'x'.repeat(20) })) });
    expect((await runCli(['save', '-k', 'a', '-i', '-'], { cwd: root, input: big })).code).toBe(0);
    const { spawnSync } = await import('node:child_process');
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" load -k a | head -c 1`], { cwd: root, encoding: 'utf8' });
    expect(piped.stdout).toBe('{');
    expect(piped.stderr).toBe('');
  });

  it('prints statistics for people and as JSON', async () => {
    const root = await tempProject();
    await runCli(['save', '-k', 'a', '-i', AE_IR_SAMPLE], { cwd: root });
    await runCli(['save', '-k', 'b', '-i', AE_IR_SAMPLE], { cwd: root });
    const json = JSON.parse((await runCli(['stats', '--json'], { cwd: root })).stdout);
    expect(json).toMatchObject({ totalEntries: 2, logicalKeys: 2, compressedEntries: 2, objectCount: 1, activeTransactions: 0 });
    const human = await runCli(['stats'], { cwd: root });
    expect(human.stdout).toMatch(/Versions\s+2/);
  });

  it('test-tx reports a committed and a rolled-back transaction and leaves nothing in the project store', async () => {
    const root = await tempProject();
    await runCli(['save', '-k', 'earlier', '-i', '-'], { cwd: root, input: '{}' });
    const tx = await runCli(['test-tx', '--json'], { cwd: root });
    expect(tx.code, tx.stderr).toBe(0);
    const result = JSON.parse(tx.stdout) as { ok: boolean; committed: { keys: string[] } };
    expect(result.ok).toBe(true);
    expect(result.committed.keys).toHaveLength(2);
    await runCli(['save', '-k', 'later', '-i', '-'], { cwd: root, input: '{}' });
    const log = JSON.parse((await runCli(['log', '--json'], { cwd: root })).stdout) as Array<{ message: string; operations: unknown[] }>;
    expect(log.map((c) => c.message)).toEqual(['save later', 'save earlier']);
    expect((await runCli(['versions', '-k', 'test_tx.spec1'], { cwd: root })).code).toBe(3);
    // Outside any store it creates none either.
    const empty = await tempProject();
    expect((await runCli(['test-tx'], { cwd: empty })).code).toBe(0);
    expect(existsSync(join(empty, '.ae'))).toBe(false);
  });
});
