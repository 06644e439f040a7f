import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { MAX_IMPORT_VERSION } from '../../src/model/import-check.js';
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
