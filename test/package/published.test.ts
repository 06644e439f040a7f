import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, run, runCli, tempProject } from '../helpers.js';
import { installPackedPackage } from '../support/packed-package.js';

interface PackedFile {
  path: string;
}

describe('the published package', () => {
  it('ships the example document, the licence and no source map pointing at unshipped files', async () => {
    // --ignore-scripts: `npm test` has built dist already; prepack would rebuild it.
    const output = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], REPO_ROOT);
    const [pack] = JSON.parse(output) as Array<{ files: PackedFile[] }>;
    const paths = pack!.files.map((f) => f.path);
    expect(paths).toContain('examples/ae-ir.json');
    expect(paths).toContain('examples/NOTICE.md');
    expect(paths).toContain('LICENSE');
    expect(paths).toContain('bin/ae-state.js');
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(paths.filter((p) => p.startsWith('test/') || p.startsWith('src/'))).toEqual([]);
  });

  it('builds on pack, not on install, so installing the package runs no script', async () => {
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const hook of ['prepare', 'preinstall', 'install', 'postinstall']) expect(manifest.scripts[hook]).toBeUndefined();
    expect(manifest.scripts.prepack).toContain('npm run build');
    for (const script of ['test', 'start', 'bench']) expect(manifest.scripts[script]).toMatch(/^npm run build && /);
  });

  it('carries the Apache 2.0 licence text', async () => {
    const licence = await readFile(join(REPO_ROOT, 'LICENSE'), 'utf8');
    expect(licence).toContain('Apache License');
    expect(licence).toContain('Version 2.0, January 2004');
  });
});

describe('the README quick start, with the packed package', () => {
  it('runs as written in an empty folder', async () => {
    const packDir = await tempProject('ae-state-pack-');
    const project = await tempProject('ae-state-user-');
    const installed = await installPackedPackage(project, packDir);
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const block = /## Quick start\n\n```bash\n([\s\S]*?)```/.exec(readme)![1]!;
    const commands = block.split('\n').filter((line) => line.startsWith('npx ae-state '));
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const line of commands) {
      const args = line.replace(/^npx ae-state /, '').split(/\s+/);
      const result = await runCli(args, { cwd: project, bin: join(installed, 'bin', 'ae-state.js') });
      expect(result.code, `${line}\n${result.stderr}`).toBe(0);
    }
    expect(JSON.parse(await readFile(join(project, 'spec-v1.json'), 'utf8'))).toEqual(
      JSON.parse(await readFile(join(REPO_ROOT, 'examples', 'ae-ir.json'), 'utf8')),
    );
  });
});
