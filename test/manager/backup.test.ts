import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/manager/EnhancedStateManager.js';
import { LEGACY_DB, readAeIr, tempProject } from '../helpers.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** An entry exactly as the original implementation wrote it. */
function legacyEntry(logicalKey: string, timestamp: string, version: number, data: unknown, compress: boolean, extra: Record<string, unknown> = {}) {
  const json = JSON.stringify(data);
  return {
    id: `uuid-${logicalKey}-${version}`,
    logicalKey,
    timestamp,
    version,
    checksum: sha(json),
    data: compress ? JSON.parse(JSON.stringify(gzipSync(json))) : JSON.parse(json),
    compressed: compress,
    tags: { n: String(version) },
    ttl: 604800,
    metadata: { size: json.length, created: timestamp, accessed: timestamp, source: 'generator', phase: `phase-${version % 6}` },
    ...extra,
  };
}

/** A larger legacy database: 200 keys × 10 versions, some compressed, some binary. */
function generateLegacyDb() {
  const entries = [];
  const keyIndex: Record<string, string[]> = {};
  const versionIndex: Record<string, number> = {};
  for (let k = 0; k < 200; k++) {
    const key = `domain.entity_${k}.spec`;
    for (let v = 3; v <= 12; v++) {
      const timestamp = new Date(Date.UTC(2025, 0, 1, 0, k, v)).toISOString();
      const data = k % 10 === 0 ? Buffer.from(`binary ${k} ${v}`) : { key, v, body: 'x'.repeat(k % 3 === 0 ? 2000 : 10) };
      entries.push(legacyEntry(key, timestamp, v, data, JSON.stringify(data).length > 1024 || (k % 20 === 0 && v % 2 === 0)));
      (keyIndex[key] ??= []).push(`${key}_${timestamp}`);
      versionIndex[key] = v;
    }
  }
  return { metadata: { version: '1.0.0', timestamp: '2025-01-02T00:00:00.000Z', options: {} }, entries, indices: { keyIndex, versionIndex } };
}

describe('whole-state backups', () => {
  it('imports the original implementation\'s database with every field kept', async () => {
    const legacy = JSON.parse(await readFile(LEGACY_DB, 'utf8'));
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    const result = await m.importState(legacy);
    expect(result).toMatchObject({ published: legacy.entries.length, skipped: 0 });
    for (const original of legacy.entries) {
      const entry = (await m.loadEntry(original.logicalKey, original.version))!;
      expect(entry).toMatchObject({
        id: original.id,
        timestamp: original.timestamp,
        version: original.version,
        checksum: original.checksum,
        data: original.data,
        tags: original.tags,
        ttl: original.ttl,
      });
      expect(entry.metadata).toMatchObject({ created: original.metadata.created, source: original.metadata.source });
    }
    await m.shutdown();
  });

  it('imports a generated 2,000-entry database with compressed and binary data in one commit', async () => {
    const legacy = generateLegacyDb();
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    await m.importState(JSON.parse(JSON.stringify(legacy)));
    expect(await m.getLog()).toHaveLength(1);
    expect(m.getStatistics()).toMatchObject({ totalEntries: 2000, logicalKeys: 200 });
    const versions = await m.getVersions('domain.entity_7.spec');
    expect(versions.map((v) => v.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    expect(versions[0]).toMatchObject({ timestamp: legacy.entries[79]!.timestamp, tags: { n: '12' }, phase: 'phase-0', source: 'generator' });
    expect(await m.loadSSOT('domain.entity_0.spec', 4)).toEqual(Buffer.from('binary 0 4')); // compressed binary
    expect(await m.loadSSOT('domain.entity_10.spec', 5)).toEqual(Buffer.from('binary 10 5'));
    expect(await m.loadSSOT('domain.entity_3.spec', 3)).toEqual({ key: 'domain.entity_3.spec', v: 3, body: 'x'.repeat(2000) });
    await m.shutdown();
  });

  it('round-trips through exportState and a JSON file, and importing twice changes nothing', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    const aeir = await readAeIr();
    await m.saveSSOT('spec', aeir, { phase: 'phase-5', tags: { a: 'b' }, ttl: 60, source: 's' });
    await m.saveSSOT('spec', { small: true });
    await m.saveSSOT('bin', Buffer.from([0, 255, 7]));
    const backup = await m.exportState();
    expect(backup.metadata.version).toBe('1.0.0');
    expect(backup.indices.versionIndex).toEqual({ bin: 1, spec: 2 });
    expect(backup.indices.keyIndex.spec).toHaveLength(2);
    expect(backup.entries.every((e) => e.compressed === false)).toBe(true);

    const target = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    await target.importState(JSON.parse(JSON.stringify(backup)));
    expect(await target.loadSSOT('spec', 1)).toEqual(aeir);
    expect(await target.loadEntry('spec', 1)).toMatchObject({ tags: { a: 'b' }, ttl: 60, metadata: { source: 's', phase: 'phase-5' } });
    expect(await target.loadSSOT('bin')).toEqual(Buffer.from([0, 255, 7]));
    expect((await target.getVersions('spec')).map((v) => v.key)).toEqual((await m.getVersions('spec')).map((v) => v.key));
    expect(await target.importState(JSON.parse(JSON.stringify(backup)))).toMatchObject({ published: 0, skipped: 3 });
    expect(await target.getLog()).toHaveLength(1);
    await target.shutdown();
    await m.shutdown();
  });

  it('a restored version saved without a ttl keeps the default ttl, so the newest version of a key stays protected', async () => {
    const DAY = 86_400_000;
    const clock = { now: Date.parse('2025-03-01T00:00:00.000Z') };
    const options = { gcInterval: 0, defaultTTL: 86_400, recordGitProvenance: false };
    const m = new EnhancedStateManager(await tempProject(), options, { clock: () => clock.now });
    await m.saveSSOT('spec', { n: 1 });
    clock.now += 1000;
    await m.saveSSOT('spec', { n: 2 });
    await m.saveSSOT('draft', { d: 1 }, { ttl: 60 });
    const backup = JSON.parse(JSON.stringify(await m.exportState()));
    // The original's reader still finds a ttl on every entry, as the original wrote them.
    expect(backup.entries.map((e: { ttl: number }) => e.ttl)).toEqual([60, 86_400, 86_400]);

    const target = new EnhancedStateManager(await tempProject(), options, { clock: () => clock.now });
    await target.importState(backup);
    clock.now += 2 * DAY;
    const result = await target.runGarbageCollection();
    expect(result).toMatchObject({ expiredCount: 2, keptAsNewest: 1 });
    expect(await target.loadSSOT('spec')).toEqual({ n: 2 });
    expect(await target.loadSSOT('spec', 1)).toBeNull();
    expect(await target.loadSSOT('draft')).toBeNull();
    await target.shutdown();
    await m.shutdown();
  });

  it('carries the numbers a key reserved in versionIndex, so a restore continues after them', async () => {
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    const timestamp = '2025-01-01T00:00:00.000Z';
    const legacy = { metadata: { version: '1.0.0', timestamp, options: {} }, entries: [legacyEntry('spec', timestamp, 2, { v: 2 }, false)], indices: { versionIndex: { spec: 9 } } };
    await m.importState(legacy);
    const backup = await m.exportState();
    expect(backup.indices.versionIndex).toEqual({ spec: 9 });

    const target = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    await target.importState(JSON.parse(JSON.stringify(backup)));
    await target.saveSSOT('spec', { v: 'next' });
    expect((await target.getVersions('spec')).map((v) => v.version)).toEqual([10, 2]);
    await target.shutdown();
    await m.shutdown();
  });

  it('refuses a bad backup as a whole, with nothing changed', async () => {
    const legacy = generateLegacyDb();
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    const tampered = JSON.parse(JSON.stringify(legacy));
    tampered.entries[1500].data.v = 99;
    await expect(m.importState(tampered)).rejects.toMatchObject({ code: 'INVALID_BACKUP', message: expect.stringMatching(/entries\[1500\].*checksum/) });
    const badVersion = { ...legacy, metadata: { ...legacy.metadata, version: '2.0.0' } };
    await expect(m.importState(badVersion)).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    const badKey = JSON.parse(JSON.stringify(legacy));
    badKey.entries[3].logicalKey = 'a/b';
    await expect(m.importState(badKey)).rejects.toMatchObject({ code: 'INVALID_BACKUP', message: expect.stringMatching(/entries\[3\]/) });
    const duplicate = { ...legacy, entries: [...legacy.entries, legacy.entries[0]] };
    await expect(m.importState(duplicate)).rejects.toMatchObject({ code: 'INVALID_BACKUP', message: expect.stringMatching(/twice/) });
    await expect(m.importState([])).rejects.toMatchObject({ code: 'INVALID_BACKUP' });
    expect(await m.getLog()).toEqual([]);
    await m.shutdown();
  });
});

describe('migration from the single-file database', () => {
  it('imports the database when an empty store opens, once, and keeps it renamed', async () => {
    const root = await tempProject();
    await mkdir(join(root, '.ae'));
    await copyFile(LEGACY_DB, join(root, '.ae', 'enhanced-state.db'));
    const m = new EnhancedStateManager(root, { gcInterval: 0 });
    const migrated: unknown[] = [];
    m.on('stateMigrated', (e) => migrated.push(e));
    expect(await m.loadSSOT('integration-ready')).toEqual({ id: 'ready', name: 'true' });
    expect(migrated).toHaveLength(1);
    const names = await readdir(join(root, '.ae'));
    expect(names).not.toContain('enhanced-state.db');
    const backup = names.find((n) => n.startsWith('enhanced-state.db.migrated-'))!;
    expect(await readFile(join(root, '.ae', backup))).toEqual(await readFile(LEGACY_DB));
    await m.shutdown();

    // A database that reappears is not imported into a store that has versions.
    await copyFile(LEGACY_DB, join(root, '.ae', 'enhanced-state.db'));
    const again = new EnhancedStateManager(root, { gcInterval: 0 });
    await again.initialize();
    expect(await again.getLog()).toHaveLength(1);
    expect(await readdir(join(root, '.ae'))).toContain('enhanced-state.db');
    await again.shutdown();
  });

  it('honours databasePath', async () => {
    const root = await tempProject();
    await copyFile(LEGACY_DB, join(root, 'old.db'));
    const m = new EnhancedStateManager(root, { gcInterval: 0, databasePath: 'old.db' });
    expect(await m.getVersions('integration-ready')).toHaveLength(1);
    await m.shutdown();
  });

  it('refuses a malformed or unknown-version database, leaving it and the store untouched', async () => {
    for (const content of ['{"metadata": {"version": "1.0.0"}, "entries": [', JSON.stringify({ metadata: { version: '9.9.9' }, entries: [] })]) {
      const root = await tempProject();
      await mkdir(join(root, '.ae'));
      const db = join(root, '.ae', 'enhanced-state.db');
      await writeFile(db, content);
      const m = new EnhancedStateManager(root, { gcInterval: 0 });
      const error = await m.initialize().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: expect.stringMatching(/^(INVALID_BACKUP|UNSUPPORTED_FORMAT)$/) });
      expect((error as Error).message).toContain('enhanced-state.db');
      expect(await readFile(db, 'utf8')).toBe(content);
      expect(await readdir(join(root, '.ae', 'commits'))).toEqual([]);
      await m.shutdown();
    }
  });

  it('migrate() imports on demand into a store that has versions', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0 });
    await m.saveSSOT('mine', { a: 1 });
    await copyFile(LEGACY_DB, join(root, '.ae', 'enhanced-state.db'));
    expect(await m.migrate()).toMatchObject({ entryCount: 1, path: join(root, '.ae', 'enhanced-state.db') });
    expect(await m.loadSSOT('integration-ready')).toEqual({ id: 'ready', name: 'true' });
    expect(await m.migrate()).toBeNull();
    await m.shutdown();
  });
});
