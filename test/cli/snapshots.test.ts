import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderBar } from '../../src/cli/progress.js';
import { AE_FRAMEWORK_CLI, AE_IR_SAMPLE, LEGACY_DB, readAeIr, run, runCli, tempProject } from '../helpers.js';

async function projectWithSnapshot() {
  const root = await tempProject();
  expect((await runCli(['save', '-k', 'domain.user.spec', '-i', AE_IR_SAMPLE, '-p', 'phase-5'], { cwd: root })).code).toBe(0);
  expect((await runCli(['save', '-k', 'product_model', '-i', AE_IR_SAMPLE], { cwd: root })).code).toBe(0);
  expect((await runCli(['save', '-k', 'other', '-i', AE_IR_SAMPLE, '-p', 'phase-1'], { cwd: root })).code).toBe(0);
  const created = await runCli(['enhanced-state', 'snapshot', '-p', 'phase-5', '-e', 'User,Product', '--json'], { cwd: root, bin: AE_FRAMEWORK_CLI });
  expect(created.code, created.stderr).toBe(0);
  const snapshot = JSON.parse(created.stdout) as { snapshotId: string; entryCount: number; entries: string[] };
  return { root, snapshot };
}

describe('CLI: snapshot, snapshots, load-snapshot', () => {
  it('creates, lists and loads a snapshot as the reference shows', async () => {
    const { root, snapshot } = await projectWithSnapshot();
    expect(snapshot.snapshotId).toMatch(/^snapshot_phase-5_\d{4}-.*Z$/);
    expect(snapshot.entryCount).toBe(2);

    const list = await runCli(['snapshots'], { cwd: root });
    expect(list.stdout).toMatch(/SNAPSHOT\s+PHASE\s+ENTITIES\s+ENTRIES/);
    expect(list.stdout).toContain(snapshot.snapshotId);
    expect(JSON.parse((await runCli(['snapshots', '--json'], { cwd: root })).stdout)).toEqual([
      expect.objectContaining({ snapshotId: snapshot.snapshotId, entities: ['User', 'Product'], entryCount: 2 }),
    ]);

    const loaded = await runCli(['load-snapshot', '-s', snapshot.snapshotId, '--json'], { cwd: root });
    const entries = JSON.parse(loaded.stdout) as Record<string, { logicalKey: string; data: unknown }>;
    expect(Object.values(entries).map((e) => e.logicalKey)).toEqual(['domain.user.spec', 'product_model']);
    expect(Object.values(entries)[0]!.data).toEqual(await readAeIr());
    expect((await runCli(['load-snapshot', '-s', snapshot.snapshotId], { cwd: root })).stdout).toMatch(/2 entries/);
  });

  it('exits 3 for a snapshot that does not exist', async () => {
    const root = await tempProject();
    await runCli(['init'], { cwd: root });
    const result = await runCli(['load-snapshot', '-s', 'snapshot_phase-5_2025-01-20T10:00:00Z'], { cwd: root });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/snapshot .* not found/);
    expect((await runCli(['export', '-o', join(root, 'x.tar'), '--snapshot', 'snapshot_p_2025-01-20T10:00:00.000Z'], { cwd: root })).code).toBe(3);
  });
});

describe('CLI: export, import', () => {
  it('exports a snapshot tar and a JSON backup, and imports both into another project by content', async () => {
    const { root, snapshot } = await projectWithSnapshot();
    const tarFile = join(root, 'snap.tar');
    const exported = await runCli(['export', '-o', tarFile, '--snapshot', snapshot.snapshotId], { cwd: root });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).not.toContain('[#'); // no progress bar without a terminal
    expect(await run('tar', ['-tf', tarFile])).toMatch(/^manifest\.json\n/);
    const backupFile = join(root, 'backup.json');
    expect((await runCli(['export', '-o', backupFile], { cwd: root })).code).toBe(0);
    const backup = JSON.parse(await readFile(backupFile, 'utf8'));
    expect(backup.metadata.version).toBe('1.0.0');
    expect(backup.entries).toHaveLength(3);

    const other = await tempProject();
    const fromTar = await runCli(['import', '-i', tarFile, '--json'], { cwd: other });
    expect(fromTar.code, fromTar.stderr).toBe(0);
    expect(JSON.parse(fromTar.stdout)).toMatchObject({ format: 'tar', published: 2, snapshot: { snapshotId: snapshot.snapshotId } });
    const fromJson = await runCli(['import', '-i', backupFile, '--json'], { cwd: other });
    expect(JSON.parse(fromJson.stdout)).toMatchObject({ format: 'json', published: 1, skipped: 2 });
    const loaded = await runCli(['load', '-k', 'other'], { cwd: other });
    expect(JSON.parse(loaded.stdout)).toEqual(await readAeIr());
  });

  it('refuses a .tar output without --snapshot as a usage error, and a hostile file with exit 1', async () => {
    const root = await tempProject();
    await runCli(['init'], { cwd: root });
    expect((await runCli(['export', '-o', join(root, 'all.tar')], { cwd: root })).code).toBe(2);
    const bad = join(root, 'bad.json');
    await writeFile(bad, JSON.stringify({ metadata: { version: '0.9' }, entries: [] }));
    const result = await runCli(['import', '-i', bad], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/version "0.9" is not supported/);
  });
});

describe('CLI: migrate', () => {
  it('creates no store when there is nothing to migrate', async () => {
    const root = await tempProject();
    const result = await runCli(['migrate'], { cwd: root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('nothing to migrate (no file at .ae/enhanced-state.db)\n');
    expect(existsSync(join(root, '.ae'))).toBe(false);
  });

  it('migrates the original database on demand, and on open of an empty store', async () => {
    const root = await tempProject();
    await mkdir(join(root, '.ae'));
    await copyFile(LEGACY_DB, join(root, '.ae', 'enhanced-state.db'));
    const migrated = await runCli(['migrate', '--json'], { cwd: root });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(JSON.parse(migrated.stdout)).toMatchObject({ entryCount: 1, backupPath: expect.stringContaining('enhanced-state.db.migrated-') });
    expect((await runCli(['migrate'], { cwd: root })).stdout).toMatch(/nothing to migrate/);

    const other = await tempProject();
    await mkdir(join(other, '.ae'));
    await copyFile(LEGACY_DB, join(other, '.ae', 'enhanced-state.db'));
    const loaded = await runCli(['load', '-k', 'integration-ready'], { cwd: other });
    expect(JSON.parse(loaded.stdout)).toEqual({ id: 'ready', name: 'true' });
  });

  it('refuses a malformed database and leaves it in place', async () => {
    const root = await tempProject();
    await mkdir(join(root, '.ae'));
    await writeFile(join(root, '.ae', 'enhanced-state.db'), '{"metadata":');
    const result = await runCli(['migrate'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/enhanced-state\.db is not valid JSON/);
    expect(await readdir(join(root, '.ae'))).toContain('enhanced-state.db');
  });
});

describe('progress bar', () => {
  it('renders the share done', () => {
    expect(renderBar('exporting', 5, 10)).toBe(`exporting [${'#'.repeat(12)}${'-'.repeat(12)}] 50% 5/10`);
    expect(renderBar('x', 0, 0)).toMatch(/100% 0\/0$/);
  });
});
