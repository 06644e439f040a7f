import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { MAX_IMPORT_VERSION } from '../../src/model/import-check.js';
import { refFileName } from '../../src/model/keys.js';
import { tempProject } from '../helpers.js';

const opened: EnhancedStateManager[] = [];

function open(root: string): EnhancedStateManager {
  const m = new EnhancedStateManager(root, { recordGitProvenance: false, gcInterval: 0 });
  opened.push(m);
  return m;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.shutdown()));
});

/** A backup of one entry of `spec`, version `version`, whose versionIndex says `indexed`. */
function backup(version: number, indexed?: number) {
  const timestamp = '2025-01-01T00:00:00.000Z';
  const entry = { id: 'u1', logicalKey: 'spec', timestamp, version, checksum: '', compressed: false, data: { v: 'imported' }, metadata: { created: timestamp } };
  const indices = indexed === undefined ? {} : { versionIndex: { spec: indexed } };
  return { metadata: { version: '1.0.0', timestamp, options: {} }, entries: [entry], indices };
}

describe('version numbers', () => {
  it.each([
    ['its newest version', backup(Number.MAX_SAFE_INTEGER)],
    ['its versionIndex', backup(1, Number.MAX_SAFE_INTEGER)],
  ])('refuses a backup when %s is past the import limit, so the key keeps numbers for later saves', async (_, state) => {
    const root = await tempProject();
    const m = open(root);
    await expect(m.importState(state)).rejects.toMatchObject({ code: 'INVALID_BACKUP' });
    await m.saveSSOT('spec', { v: 'next' });
    expect((await m.getVersions('spec')).map((v) => v.version)).toEqual([1]);
    expect((await m.fsck()).ok).toBe(true);
  });

  it.each([
    ['its newest version', backup(MAX_IMPORT_VERSION), MAX_IMPORT_VERSION + 1],
    ['its versionIndex', backup(1, MAX_IMPORT_VERSION), MAX_IMPORT_VERSION + 1],
  ])('numbers the next save after %s at the import limit, in a fresh process too', async (_, state, next) => {
    const root = await tempProject();
    await open(root).importState(state);
    const fresh = open(root);
    await fresh.saveSSOT('spec', { v: 'next' });
    expect((await fresh.getVersions('spec')).map((v) => v.version)).toEqual([next, state.entries[0]!.version]);
    expect(await fresh.loadSSOT('spec')).toEqual({ v: 'next' });
    expect((await fresh.fsck()).ok).toBe(true);
  });
});

describe('refs a machine crash tore before the commit point', () => {
  // A ref is fsynced in the same round as its directory entry, so a machine
  // crash before the commit point can leave it empty or cut short. pid
  // 999999999 does not run: its publish record is a dead writer's.
  async function tornRefOfDeadWriter(root: string, commit: string, contents: string): Promise<string> {
    const refDir = join(root, '.ae', 'refs', 'keys', 'spec');
    const path = join(refDir, refFileName('2030-01-01T00:00:00.000Z', commit));
    await writeFile(path, contents);
    await writeFile(join(root, '.ae', 'local', 'staging', `${commit}.999999999.publish`), '');
    return path;
  }

  it.each([['empty', ''], ['cut short', '{\n  "format": 1,\n  "fullKey": "spec_20']])(
    'are skipped by reads and removed by the next save when %s and named by a dead writer\'s publish record',
    async (_, contents) => {
      const root = await tempProject();
      const m = open(root);
      await m.saveSSOT('spec', { n: 1 });
      const torn = await tornRefOfDeadWriter(root, '2030-01-01T00-00-00.000Z_0123456789abcdef', contents);
      const fresh = open(root);
      expect(await fresh.loadSSOT('spec')).toEqual({ n: 1 });
      expect((await fresh.getVersions('spec')).map((v) => v.version)).toEqual([1]);
      await fresh.saveSSOT('spec', { n: 2 });
      await expect(stat(torn)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await fresh.getVersions('spec')).map((v) => v.version)).toEqual([2, 1]);
    },
  );

  it('are still refused when no publish record names their commit', async () => {
    const root = await tempProject();
    const m = open(root);
    await m.saveSSOT('spec', { n: 1 });
    const path = await tornRefOfDeadWriter(root, '2030-01-01T00-00-00.000Z_0123456789abcdef', '');
    await rm(join(root, '.ae', 'local', 'staging', '2030-01-01T00-00-00.000Z_0123456789abcdef.999999999.publish'));
    const fresh = open(root);
    await expect(fresh.loadSSOT('spec')).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(fresh.saveSSOT('spec', { n: 2 })).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect((await stat(path)).size).toBe(0);
  });
});
