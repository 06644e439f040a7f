import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempProject } from '../helpers.js';

async function installHook(root: string, name: string, script: string): Promise<void> {
  const path = join(root, '.ae', 'hooks', name);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
}

describe('CLI: summaries say what happened', () => {
  it('a save past maxVersions names the versions it removed', async () => {
    const root = await tempProject();
    await runCli(['config', 'set', 'maxVersions', '2'], { cwd: root });
    const outputs: string[] = [];
    for (let i = 1; i <= 4; i++) outputs.push((await runCli(['save', '-k', 'spec', '-i', '-'], { cwd: root, input: `{"i":${i}}` })).stdout);
    expect(outputs[1]).not.toContain('removed');
    expect(outputs[2]).toMatch(/\(version 3\)\nremoved v1 \(maxVersions 2\)\n$/);
    expect(outputs[3]).toMatch(/removed v2 \(maxVersions 2\)\n$/);
    const json = JSON.parse((await runCli(['save', '-k', 'spec', '-i', '-', '--json'], { cwd: root, input: '{"i":5}' })).stdout);
    expect(json.removedVersions).toEqual([3]);
  });

  it('gc and snapshot report the hooks they ran', async () => {
    const root = await tempProject();
    await runCli(['init'], { cwd: root });
    await runCli(['save', '-k', 'spec', '-i', '-', '-p', 'phase-5'], { cwd: root, input: '{}' });
    const quiet = await runCli(['gc'], { cwd: root });
    expect(quiet.stdout).toContain('hooks run                 none');
    await installHook(root, 'post-gc', 'exit 0');
    await installHook(root, 'post-snapshot', 'exit 3');
    // Only hooks this machine trusts run.
    for (const hook of ['post-gc', 'post-snapshot']) expect((await runCli(['hooks', 'trust', hook], { cwd: root })).code).toBe(0);
    const gc = await runCli(['gc'], { cwd: root });
    expect(gc.stdout).toMatch(/  hook post-gc: exit 0 \(\d+ ms\)\n$/);
    const snapshot = await runCli(['snapshot', '-p', 'phase-5'], { cwd: root });
    expect(snapshot.code).toBe(0);
    expect(snapshot.stdout).toMatch(/created snapshot_phase-5_\S+ \(1 entries\)\n  hook post-snapshot: exit 3 \(\d+ ms\)\n$/);
    const json = JSON.parse((await runCli(['gc', '--json'], { cwd: root })).stdout);
    expect(json.hooks).toEqual([expect.objectContaining({ hook: 'post-gc', ok: true })]);
  });

  it('import reports new and already present versions', async () => {
    const root = await tempProject();
    await runCli(['save', '-k', 'spec', '-i', '-'], { cwd: root, input: '{}' });
    await runCli(['export', '-o', 'backup.json'], { cwd: root });
    const again = await runCli(['import', '-i', 'backup.json'], { cwd: root });
    expect(again.stdout).toContain('(0 new, 1 already present)');
  });
});
