import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AE_IR_SAMPLE, runCli, tempProject } from '../helpers.js';

async function objectFiles(root: string): Promise<string[]> {
  const dir = join(root, '.ae', 'objects');
  const files: string[] = [];
  for (const fanout of await readdir(dir)) for (const name of await readdir(join(dir, fanout))) files.push(join(dir, fanout, name));
  return files;
}

describe('ae-state gc', () => {
  it('removes versions whose ttl has passed and, with --prune=now, their objects', async () => {
    const root = await tempProject();
    expect((await runCli(['save', '-k', 'draft', '-i', AE_IR_SAMPLE, '--ttl', '0.001'], { cwd: root })).code).toBe(0);
    expect((await runCli(['save', '-k', 'kept', '-i', '-'], { cwd: root, input: '{"keep":true}' })).code).toBe(0);
    expect(await objectFiles(root)).toHaveLength(2);
    const gc = await runCli(['gc', '--prune=now', '--json'], { cwd: root });
    expect(gc.code).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({ expiredCount: 1, removedObjects: 1, graceSeconds: 0 });
    expect(await objectFiles(root)).toHaveLength(1);
    expect((await runCli(['load', '-k', 'draft'], { cwd: root })).code).toBe(3);
    expect(JSON.parse((await runCli(['load', '-k', 'kept'], { cwd: root })).stdout)).toEqual({ keep: true });
    const human = await runCli(['gc'], { cwd: root });
    expect(human.stdout).toMatch(/expired versions removed\s+0/);
  });

  it('refuses a prune value that is neither "now" nor seconds', async () => {
    const root = await tempProject();
    const result = await runCli(['gc', '--prune', 'soon'], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('now');
  });
});

describe('ae-state fsck', () => {
  it('exits 0 on a healthy store and 1 with the damaged path when an object is corrupt; --repair fixes it', async () => {
    const root = await tempProject();
    await runCli(['save', '-k', 'spec', '-i', AE_IR_SAMPLE], { cwd: root });
    await runCli(['save', '-k', 'small', '-i', '-'], { cwd: root, input: '{"n":1}' });
    const healthy = await runCli(['fsck'], { cwd: root });
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toMatch(/checked 2 objects, 2 version records, 2 commits/);

    const [victim] = await objectFiles(root);
    const bytes = await readFile(victim!);
    bytes[bytes.length - 5] ^= 0xff;
    await writeFile(victim!, bytes);
    const damaged = await runCli(['fsck'], { cwd: root });
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toContain(victim!);
    const json = JSON.parse((await runCli(['fsck', '--json'], { cwd: root })).stdout);
    expect(json).toMatchObject({ ok: false, errors: 2 });

    const repaired = await runCli(['fsck', '--repair', '--json'], { cwd: root });
    expect(repaired.code).toBe(0);
    expect(JSON.parse(repaired.stdout)).toMatchObject({ ok: true, repaired: 2 });
    await expect(stat(victim!)).rejects.toThrow();
    expect((await runCli(['fsck'], { cwd: root })).code).toBe(0);
  });
});

describe('ae-state stats', () => {
  it('prints sizes for people and every field with --json', async () => {
    const root = await tempProject();
    await runCli(['save', '-k', 'a', '-i', AE_IR_SAMPLE], { cwd: root });
    await runCli(['save', '-k', 'b', '-i', AE_IR_SAMPLE], { cwd: root });
    const human = await runCli(['stats'], { cwd: root });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Saved by deduplication\s+\d/);
    expect(human.stdout).toMatch(/Store size on disk\s+\d/);
    const json = JSON.parse((await runCli(['stats', '--json'], { cwd: root })).stdout);
    expect(json).toMatchObject({ totalEntries: 2, objectCount: 1, logicalKeys: 2 });
    expect(json.dedupSavedBytes).toBeGreaterThan(0);
    expect(json.compressionSavedBytes).toBeGreaterThan(0);
    expect(json.diskBytes).toBeGreaterThan(json.objectBytes);
  });
});
