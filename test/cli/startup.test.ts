import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AE_IR_SAMPLE, REPO_ROOT, runCli, tempProject } from '../helpers.js';

/** Runs the CLI with a preload that records which built-in modules the process loaded. */
async function builtinsLoadedBy(root: string, args: string[], options: { allowStderr?: boolean } = {}): Promise<string[]> {
  const list = join(root, 'modules.txt');
  // A CommonJS preload: an ES module one (--import) would bring in the module loader and what it loads.
  const probe = join(root, 'probe.cjs');
  await writeFile(probe, `const { writeFileSync } = require('node:fs');\nprocess.on('exit', () => writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
  const result = await runCli(['--root', root, ...args], { env: { NODE_OPTIONS: `--require=${probe}` } });
  if (!options.allowStderr) expect(result.stderr).toBe('');
  return (await readFile(list, 'utf8')).split('\n').filter((line) => line.startsWith('NativeModule ')).map((line) => line.slice('NativeModule '.length));
}

/** The CLI from tsc's per-file build, as it ran before it was bundled. */
async function perFileCli(root: string): Promise<string> {
  const bin = join(root, 'per-file-cli.mjs');
  const main = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js')).href;
  await writeFile(bin, `import { main } from ${JSON.stringify(main)};\nawait main(process.argv.slice(2), 'ae-state');\n`);
  return bin;
}

describe('CLI start-up', () => {
  it('loads node:crypto only for commands that verify records, and zlib only for those that read objects', async () => {
    const root = await tempProject();
    expect((await runCli(['--root', root, 'save', '-k', 'spec', '-i', AE_IR_SAMPLE])).code).toBe(0);
    for (const args of [['--help'], ['load', '--help']]) {
      const loaded = await builtinsLoadedBy(root, args);
      expect(loaded, args.join(' ')).not.toContain('crypto');
      expect(loaded, args.join(' ')).not.toContain('zlib');
    }
    // Listing versions checks each record's digest, but inflates no object.
    const versions = await builtinsLoadedBy(root, ['versions', '-k', 'spec']);
    expect(versions).toContain('crypto');
    expect(versions).not.toContain('zlib');
    const load = await builtinsLoadedBy(root, ['load', '-k', 'spec']);
    expect(load).toContain('crypto');
    expect(load).toContain('zlib');
  });

  it("prints to pipes without making Node's stdio streams: no net, tty, readline or fs/promises, and no streams at all for --help", async () => {
    const root = await tempProject();
    expect((await runCli(['--root', root, 'save', '-k', 'spec', '-i', AE_IR_SAMPLE])).code).toBe(0);
    // runCli gives the CLI pipes for stdout and stderr; `load -k missing` prints an error on stderr.
    for (const args of [['--help'], ['load', '-k', 'spec'], ['versions', '-k', 'spec'], ['load', '-k', 'missing']]) {
      const loaded = await builtinsLoadedBy(root, args, { allowStderr: true });
      for (const module of ['net', 'tty', 'internal/readline/interface', 'fs/promises']) expect(loaded, `${args.join(' ')}: ${module}`).not.toContain(module);
    }
    expect(await builtinsLoadedBy(root, ['--help'])).not.toContain('stream');
  });

  it('the bundled CLI prints, fails and exits exactly as the per-file build does', async () => {
    const root = await tempProject();
    expect((await runCli(['--root', root, 'save', '-k', 'spec', '-i', AE_IR_SAMPLE])).code).toBe(0);
    const perFile = await perFileCli(root);
    const cases = [['load', '-k', 'spec'], ['versions', '-k', 'spec'], ['versions', '-k', 'spec', '--json'], ['load', '-k', 'missing'], ['load', '-k', 'a/b'], ['load'], ['nonsense'], ['--help'], ['load', '--help']];
    for (const args of cases) {
      const bundled = await runCli(['--root', root, ...args]);
      const reference = await runCli(['--root', root, ...args], { bin: perFile });
      expect(bundled, args.join(' ')).toEqual(reference);
    }
  });
});
