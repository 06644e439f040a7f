import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, run } from './helpers.js';

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
