/**
 * `ae-state serve` as a command: its help, the warning for a non-loopback
 * address, `--open` keeping the token off command lines, start-up of other
 * commands, and a bad port.
 */
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, tempProject } from '../helpers.js';
import { startServe } from '../serve/support.js';

describe('CLI: serve', () => {
  it('describes itself in --help and warns when bound to a non-loopback address', async () => {
    const help = await runCli(['serve', '--help']);
    expect(help.stdout).toMatch(/web view of the store/);
    expect(help.stdout).toMatch(/--port <n>/);
    expect(help.stdout).toMatch(/--host <host>/);
    expect(help.stdout).toMatch(/--open/);
    const root = await tempProject();
    expect((await runCli(['--root', root, 'init'])).code).toBe(0);
    const serve = await startServe(root, ['--host', '0.0.0.0']);
    try {
      expect(serve.origin).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      expect(serve.stderr()).toMatch(/warning: binding 0\.0\.0\.0, which is not a loopback address/);
      expect((await fetch(`http://127.0.0.1:${new URL(serve.origin).port}/`)).status).toBe(403);
    } finally {
      await serve.stop();
    }
  });

  it.runIf(process.platform === 'linux')('--open gives the opener a private page that leads to the URL, never the token itself', async () => {
    const root = await tempProject();
    expect((await runCli(['--root', root, 'init'])).code).toBe(0);
    // A stand-in for xdg-open that records the arguments every local user could read.
    const bin = await tempProject();
    const seen = join(bin, 'argv.txt');
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${JSON.stringify(seen)}\n`, { mode: 0o755 });
    const serve = await startServe(root, ['--open'], { PATH: `${bin}:${process.env.PATH ?? ''}` });
    let page = '';
    try {
      let argv = '';
      for (let i = 0; i < 200 && argv === ''; i++) argv = await readFile(seen, 'utf8').catch(() => sleep(25).then(() => ''));
      expect(argv).not.toContain(serve.token);
      page = argv.trim();
      expect((await stat(page)).mode & 0o077).toBe(0);
      expect((await stat(dirname(page))).mode & 0o077).toBe(0);
      expect(await readFile(page, 'utf8')).toContain(`url=${serve.url}`);
    } finally {
      await serve.stop();
    }
    // Gone with the server.
    await expect(stat(dirname(page))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('is loaded only for serve: other commands load none of the web view or its framework', async () => {
    const root = await tempProject();
    // A module-resolution hook that prints every module the CLI loads.
    const hooks = join(root, 'trace-hooks.mjs');
    await writeFile(hooks, 'export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write(`LOADED ${r.url}\\n`); return r; }\n');
    const register = join(root, 'trace.mjs');
    await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const loaded = async (...args: string[]) => {
      return new Promise<{ code: number; trace: string }>((resolve) =>
        execFile(process.execPath, ['--import', register, CLI, '--root', root, ...args], (error, _out, err) => resolve({ code: typeof error?.code === 'number' ? error.code : 0, trace: err })),
      );
    };
    await writeFile(join(root, 'data.json'), '{"a":1}');
    await writeFile(join(root, 'data2.json'), '{"a":2}');
    for (const args of [['save', '-k', 'k', '-i', join(root, 'data.json')], ['save', '-k', 'k', '-i', join(root, 'data2.json')], ['versions', '-k', 'k'], ['--help']]) {
      const { code, trace } = await loaded(...args);
      expect(code, trace).toBe(0);
      expect(trace).not.toMatch(/LOADED .*(\/serve\/|hono)/);
    }
    // The hook sees what the CLI imports: diff loads its diff library, and serve's help nothing of the web view.
    const diff = await loaded('diff', '-k', 'k', '--from', '1', '--to', '2');
    expect(diff.code, diff.trace).toBe(1);
    expect(diff.trace).toMatch(/LOADED .*jsondiffpatch/);
    expect(diff.trace).not.toMatch(/LOADED .*(\/serve\/|hono)/);
    expect((await loaded('serve', '--help')).trace).not.toMatch(/LOADED .*(\/serve\/|hono)/);
  });

  it('refuses a bad port as a usage error', async () => {
    const bad = await runCli(['serve', '--port', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port.*must be a number from 0 to 65535/);
  });
});
