import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AE_FRAMEWORK_CLI, runCli, tempProject } from '../helpers.js';

describe('CLI: one error style', () => {
  it('names the unknown flag with a suggestion even when a required flag is missing', async () => {
    const root = await tempProject();
    const result = await runCli(['save', '--kye', 'k', '-i', 'x.json'], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("ae-state: error: unknown option '--kye' (did you mean --key?)\nhint: run \"ae-state save --help\" for usage\n");
    const missing = await runCli(['save', '-i', 'x.json'], { cwd: root });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^ae-state: error: required option '-k, --key <key>' not specified\nhint: /);
    const command = await runCli(['sav'], { cwd: root });
    expect(command.stderr).toMatch(/^ae-state: error: unknown command 'sav' \(did you mean save\?\)\n/);
  });

  it('prints errors as one JSON object on stderr with --json, with the same exit status', async () => {
    const root = await tempProject();
    const usage = await runCli(['save', '--kye', 'k', '--json'], { cwd: root });
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stderr)).toMatchObject({ error: { code: 'USAGE', message: "unknown option '--kye' (did you mean --key?)" } });
    const invalid = await runCli(['save', '-k', '../x', '-i', '-', '--json'], { cwd: root, input: '{}' });
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stderr)).toEqual({ error: { code: 'INVALID_KEY', message: 'key "../x" may not contain "/"', data: { key: '../x', rule: 'may not contain "/"' } } });
  });

  it('names the file the user gave when an output cannot be written', async () => {
    const root = await tempProject();
    await runCli(['save', '-k', 'k', '-i', '-'], { cwd: root, input: '{}' });
    const result = await runCli(['load', '-k', 'k', '-o', '/nonexistent/dir/out.json'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('ae-state: error: cannot write /nonexistent/dir/out.json: directory /nonexistent/dir does not exist\n');
    await runCli(['snapshot', '-p', 'unknown'], { cwd: root });
    const [snapshot] = JSON.parse((await runCli(['snapshots', '--json'], { cwd: root })).stdout) as Array<{ snapshotId: string }>;
    const tar = await runCli(['export', '--snapshot', snapshot!.snapshotId, '-o', '/nonexistent/dir/x.tar'], { cwd: root });
    expect(tar.stderr).toBe('ae-state: error: cannot write /nonexistent/dir/x.tar: directory /nonexistent/dir does not exist\n');
    const read = await runCli(['save', '-k', 'k', '-i', 'missing.json'], { cwd: root });
    expect(read.stderr).toBe('ae-state: error: cannot read missing.json: no such file\n');
  });

  it('quotes the line of a JSON syntax error with a caret under the column', async () => {
    const root = await tempProject();
    await writeFile(join(root, 'bad.json'), '{\n  "a": 1,\n  "b": }\n');
    const result = await runCli(['save', '-k', 'k', '-i', 'bad.json'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('ae-state: error: bad.json is not valid JSON at line 3, column 8: unexpected token \'}\'\n    "b": }\n         ^\n');
  });

  it('names standard input in words when the input is "-"', async () => {
    const root = await tempProject();
    const save = await runCli(['save', '-k', 'k', '-i', '-'], { cwd: root, input: '{"a": }' });
    expect(save.stderr).toMatch(/^ae-state: error: standard input is not valid JSON at line 1, column 7: /);
    const junk = await runCli(['import', '-i', '-'], { cwd: root, input: 'hello' });
    expect(junk.stderr).toMatch(/^ae-state: error: standard input is neither a JSON backup/);
  });

  it('validates a phase as a phase for save, snapshot and simulate-failure (usage, exit 2)', async () => {
    const root = await tempProject();
    for (const args of [['save', '-k', 'k', '-i', '-', '-p', 'a/b'], ['snapshot', '-p', 'a/b'], ['simulate-failure', '-p', 'a/b', '-t', 'validation']]) {
      const result = await runCli(args, { cwd: root, input: '{}' });
      expect(result.code, args[0]).toBe(2);
      expect(result.stderr, args[0]).toContain('phase "a/b" may not contain "/"');
    }
    expect((await runCli(['snapshot', '-p', 'x:y'], { cwd: root })).stderr).toContain('phase "x:y" may not contain any of <>:"|?*');
  });

  it('says what an unimportable file looks like and what import accepts', async () => {
    const root = await tempProject();
    await writeFile(join(root, 'backup.json.gz'), gzipSync('{}'));
    const result = await runCli(['import', '-i', 'backup.json.gz'], { cwd: root });
    expect(result.code).toBe(1);
    const [error, hint, ...rest] = result.stderr.split('\n');
    expect(error).toBe('ae-state: error: backup.json.gz is neither a JSON backup, an original database file nor a snapshot tar: it looks like a gzip file (decompress it first)');
    expect(hint).toMatch(/^hint: import reads files written by "ae-state export -o FILE.json", "ae-state export --snapshot ID -o FILE.tar"/);
    expect(rest).toEqual(['']);
  });
});

describe('CLI: versions and help', () => {
  it('prints the package version with --version and version', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };
    expect((await runCli(['--version'])).stdout).toBe(`${version}\n`);
    expect((await runCli(['version'])).stdout).toBe(`${version}\n`);
    expect((await runCli(['enhanced-state', '--version'], { bin: AE_FRAMEWORK_CLI })).stdout).toBe(`${version}\n`);
  });

  it('ae-framework --help exits 0 and prints its usage', async () => {
    const result = await runCli(['--help'], { bin: AE_FRAMEWORK_CLI });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('usage: ae-framework enhanced-state <command>');
    expect((await runCli([], { bin: AE_FRAMEWORK_CLI })).code).toBe(2);
  });
});
