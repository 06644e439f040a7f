import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { tempProject } from '../helpers.js';

async function project(files: Record<string, string>): Promise<{ root: string; m: EnhancedStateManager }> {
  const root = await tempProject();
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return { root, m: new EnhancedStateManager(root, { gcInterval: 0 }) };
}

describe('addFiles', () => {
  it('saves changed files in one commit and reports unchanged ones', async () => {
    const { m } = await project({ 'specs/a.json': '{"a":1}', 'specs/sub/b.json': '{"b":1}' });
    const first = await m.addFiles('specs/**/*.json', { phase: 'phase-5' });
    expect(first.files.map((f) => [f.file, f.key, f.status, f.version])).toEqual([
      ['specs/a.json', 'specs.a', 'saved', 1],
      ['specs/sub/b.json', 'specs.sub.b', 'saved', 1],
    ]);
    expect(await m.getLog()).toHaveLength(1);
    const second = await m.addFiles(['specs/**/*.json']);
    expect(second.files.map((f) => f.status)).toEqual(['unchanged', 'unchanged']);
    expect(second.commit).toBeNull();
    expect((await m.getVersions('specs.a'))[0]!.phase).toBe('phase-5');
    await m.shutdown();
  });

  it('creates no store on a dry run and saves nothing when one file is invalid', async () => {
    const { root, m } = await project({ 'a.json': '{}', 'b.json': '{"x": tru}' });
    const dry = await m.addFiles('a.json', { dryRun: true });
    expect(dry.files).toEqual([{ file: 'a.json', key: 'a', status: 'changed' }]);
    expect(existsSync(join(root, '.ae'))).toBe(false);
    await expect(m.addFiles('*.json')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', data: { file: 'b.json', line: 1, column: 7 } });
    expect(await m.getVersions('a')).toEqual([]);
    expect(existsSync(join(root, '.ae'))).toBe(false);
    await m.shutdown();
  });

  it('refuses two files that name one key', async () => {
    const { m } = await project({ 'a.json': '{"id":"same"}', 'b.json': '{"id":"same"}' });
    await expect(m.addFiles('*.json', { keyFrom: 'field:id' })).rejects.toThrow('a.json and b.json both name the key "same"');
    await m.shutdown();
  });
});
