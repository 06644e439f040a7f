import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
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
  ])('refuses a save when %s has taken the last safe number, and the key stays readable', async (_, state) => {
    const root = await tempProject();
    const m = open(root);
    await m.importState(state);
    await expect(m.saveSSOT('spec', { v: 'next' })).rejects.toMatchObject({ code: 'INVALID_DATA' });
    const fresh = open(root);
    expect(await fresh.loadSSOT('spec')).toEqual({ v: 'imported' });
    expect(await fresh.getVersions('spec')).toHaveLength(1);
    expect((await fresh.fsck()).ok).toBe(true);
  });
});
