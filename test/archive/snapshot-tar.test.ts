import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/manager/EnhancedStateManager.js';
import { readAeIr, run, tempProject } from '../helpers.js';
import { buildTar, type Member } from '../support/tar-builder.js';

async function sourceWithSnapshot() {
  const root = await tempProject();
  const m = new EnhancedStateManager(root, { gcInterval: 0 });
  const aeir = await readAeIr();
  await m.saveSSOT('domain.user.specification', aeir, { phase: 'phase-5', tags: { env: 'prod' }, ttl: 7200, source: 'modeling' });
  await m.saveSSOT('Mixed Case/ünïcode'.replace('/', ' '), { dates: new Date('2025-01-01T00:00:00.000Z'), raw: Buffer.from('hi') }, { phase: 'phase-5' });
  await m.saveSSOT('api.definition', { v: 1 }, { phase: 'phase-5' });
  await m.saveSSOT('api.definition', { v: 2 }, { phase: 'phase-5' });
  const id = await m.createSnapshot('phase-5');
  return { root, m, id };
}

/** The members of a tar written by exportSnapshot, read back with the real tar. */
async function extractMembers(tarPath: string, dir: string): Promise<Map<string, string>> {
  await run('tar', ['-xf', tarPath, '-C', dir]);
  const names = (await run('tar', ['-tf', tarPath])).trim().split('\n');
  const members = new Map<string, string>();
  for (const name of names) members.set(name, await readFile(join(dir, name), 'utf8'));
  return members;
}

describe('snapshot export', () => {
  it('gives byte-identical tars for the same snapshot, which the real tar lists with fixed metadata', async () => {
    const { root, m, id } = await sourceWithSnapshot();
    const a = join(root, 'a.tar');
    const b = join(root, 'b.tar');
    const first = await m.exportSnapshot(id, a);
    await m.exportSnapshot(id, b);
    const [bytesA, bytesB] = [await readFile(a), await readFile(b)];
    expect(createHash('sha256').update(bytesA).digest('hex')).toBe(createHash('sha256').update(bytesB).digest('hex'));
    expect(first).toMatchObject({ snapshotId: id, entryCount: 3, bytes: bytesA.length });

    const listing = (await run('tar', ['-tvf', a])).trim().split('\n');
    expect(listing).toHaveLength(4);
    expect(listing[0]).toMatch(/^-rw-r--r-- 0\/0 .* manifest\.json$/);
    const names = listing.map((line) => line.split(' ').at(-1)!);
    expect(names.slice(1)).toEqual([...names.slice(1)].sort());
    expect(names.slice(1).every((n) => /^entries\/[a-z0-9A-F._%~-]+\/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z\.json$/.test(n))).toBe(true);
    expect((await readdir(root)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await m.shutdown();
  });

  it('writes readable JSON files and a manifest with checksums that the real tar extracts', async () => {
    const { root, m, id } = await sourceWithSnapshot();
    const tarPath = join(root, 's.tar');
    await m.exportSnapshot(id, tarPath);
    const out = await tempProject();
    const members = await extractMembers(tarPath, out);
    const manifest = JSON.parse(members.get('manifest.json')!);
    expect(manifest).toMatchObject({ format: 1, type: 'ae-state-snapshot', storeFormat: 1, snapshotId: id, entryCount: 3 });
    const spec = manifest.entries.find((e: { logicalKey: string }) => e.logicalKey === 'domain.user.specification');
    const text = members.get(spec.file)!;
    expect(JSON.parse(text)).toEqual(await readAeIr());
    expect(text).toContain('\n  "'); // pretty-printed
    expect(createHash('sha256').update(JSON.stringify(JSON.parse(text))).digest('hex')).toBe(spec.checksum);
    expect(spec).toMatchObject({ tags: { env: 'prod' }, ttl: 7200, source: 'modeling', phase: 'phase-5', version: 1 });
    await m.shutdown();
  });

  it('answers NotFound for an unknown snapshot', async () => {
    const { root, m } = await sourceWithSnapshot();
    await expect(m.exportSnapshot('snapshot_x_2025-01-01T00:00:00.000Z', join(root, 'x.tar'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await m.shutdown();
  });
});

describe('snapshot import', () => {
  it('round-trips data, checksums, metadata and the tag into a fresh store', async () => {
    const { root, m, id } = await sourceWithSnapshot();
    const tarPath = join(root, 's.tar');
    await m.exportSnapshot(id, tarPath);
    const original = (await m.loadSnapshot(id))!;

    const target = new EnhancedStateManager(await tempProject(), { gcInterval: 0, enableCompression: false });
    const result = await target.importSnapshot(tarPath);
    expect(result).toMatchObject({ published: 3, skipped: 0, snapshot: { snapshotId: id, entryCount: 3 } });
    const restored = (await target.loadSnapshot(id))!;
    expect(Object.keys(restored)).toEqual(Object.keys(original));
    for (const [fullKey, entry] of Object.entries(original)) {
      expect(restored[fullKey]).toMatchObject({ data: entry.data, checksum: entry.checksum, version: entry.version, tags: entry.tags, ttl: entry.ttl });
      expect(restored[fullKey]!.metadata).toMatchObject({ source: entry.metadata.source, phase: entry.metadata.phase, created: entry.metadata.created });
    }
    expect(await target.loadSSOT('api.definition')).toEqual({ v: 2 });
    expect((await target.getVersions('api.definition'))[0]).toMatchObject({ version: 2, key: Object.keys(original).find((k) => k.startsWith('api.')) });
    // Importing again changes nothing.
    expect(await target.importSnapshot(tarPath)).toMatchObject({ published: 0, skipped: 3 });
    expect((await target.getLog()).length).toBe(1);
    await target.shutdown();
    await m.shutdown();
  });

  it('skips a version older than its key\'s newest, never making it the latest, and the snapshot still names it', async () => {
    const { root, m, id } = await sourceWithSnapshot();
    const tarPath = join(root, 's.tar');
    await m.exportSnapshot(id, tarPath);
    const target = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    await target.saveSSOT('api.definition', { local: 1 });
    await target.saveSSOT('api.definition', { local: 2 });
    await target.saveSSOT('api.definition', { local: 3 });
    const result = await target.importSnapshot(tarPath);
    expect(result).toMatchObject({ older: 1 });
    const versions = await target.getVersions('api.definition');
    expect(versions.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(await target.loadSSOT('api.definition')).toEqual({ local: 3 });
    const restored = (await target.loadSnapshot(id))!;
    expect(Object.values(restored).find((e) => e.logicalKey === 'api.definition')).toMatchObject({ data: { v: 2 } });
    expect(await target.importSnapshot(tarPath)).toMatchObject({ published: 0, skipped: result.published + result.present + result.older });
    await target.shutdown();
    await m.shutdown();
  });

  describe('refuses hostile archives with nothing imported', () => {
    async function manifestAndEntry() {
      const { root, m, id } = await sourceWithSnapshot();
      const tarPath = join(root, 's.tar');
      await m.exportSnapshot(id, tarPath);
      const members = await extractMembers(tarPath, await tempProject());
      await m.shutdown();
      const names = [...members.keys()];
      return { root, members, names, manifest: JSON.parse(members.get('manifest.json')!) };
    }

    const cases: Array<[string, (s: Awaited<ReturnType<typeof manifestAndEntry>>) => Member[], RegExp]> = [
      ['an absolute path', (s) => [{ name: 'manifest.json', body: s.members.get('manifest.json')! }, { name: '/etc/evil.json', body: '{}' }], /absolute/],
      ['a path with ..', (s) => [{ name: 'manifest.json', body: s.members.get('manifest.json')! }, { name: 'entries/../../evil.json', body: '{}' }], /"\.\."/],
      ['a symlink', (s) => [{ name: 'manifest.json', body: s.members.get('manifest.json')! }, { name: s.names[1]!, type: 'symlink', linkname: '/etc/passwd' }], /symlink/],
      ['a hard link', (s) => [{ name: 'manifest.json', body: s.members.get('manifest.json')! }, { name: s.names[1]!, type: 'link', linkname: 'manifest.json' }], /link/],
      ['a device file', (s) => [{ name: 'manifest.json', body: s.members.get('manifest.json')! }, { name: 'dev', type: 'character-device' }], /character-device/],
      ['a duplicate name', (s) => [...s.names.map((n) => ({ name: n, body: s.members.get(n)! })), { name: s.names[1]!, body: s.members.get(s.names[1]!)! }], /twice/],
      ['a checksum that does not match', (s) => s.names.map((n, i) => ({ name: n, body: i === 2 ? '{"tampered": true}' : s.members.get(n)! })), /checksum/],
      ['a member the manifest does not list', (s) => [...s.names.map((n) => ({ name: n, body: s.members.get(n)! })), { name: 'entries/x/y.json', body: '{}' }], /not listed/],
      ['a missing member', (s) => s.names.slice(0, -1).map((n) => ({ name: n, body: s.members.get(n)! })), /lacks 1/],
      ['an unknown format version', (s) => [{ name: 'manifest.json', body: JSON.stringify({ ...s.manifest, format: 2 }) }, ...s.names.slice(1).map((n) => ({ name: n, body: s.members.get(n)! }))], /format version 2/],
      ['a manifest that lies about file names', (s) => [{ name: 'manifest.json', body: JSON.stringify({ ...s.manifest, entries: s.manifest.entries.map((e: object, i: number) => (i === 0 ? { ...e, file: 'x.json' } : e)) }) }], /names the file/],
      ['no manifest first', (s) => s.names.slice(1).map((n) => ({ name: n, body: s.members.get(n)! })), /must start with manifest\.json/],
      ['a file that is not a tar', () => [], /./],
    ];

    for (const [what, build, message] of cases) {
      it(what, async () => {
        const s = await manifestAndEntry();
        const hostile = join(s.root, 'hostile.tar');
        if (what === 'a file that is not a tar') await writeFile(hostile, '{"metadata": {}}'.repeat(100));
        else await buildTar(hostile, build(s));
        const targetRoot = await tempProject();
        const target = new EnhancedStateManager(targetRoot, { gcInterval: 0 });
        const error = await target.importSnapshot(hostile).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'UNSAFE_ARCHIVE', message: expect.stringMatching(message) });
        expect(await target.listSnapshots()).toEqual([]);
        expect(await target.getLog()).toEqual([]);
        expect(await readdir(join(targetRoot, '.ae', 'local', 'staging'))).toEqual([]);
        expect(await readdir(join(targetRoot, '.ae', 'objects'), { recursive: true, withFileTypes: true }).then((all) => all.filter((d) => d.isFile()))).toEqual([]);
        await target.shutdown();
      });
    }

    it('an entry larger than the limit, before reading it', async () => {
      const s = await manifestAndEntry();
      const hostile = join(s.root, 'big.tar');
      await buildTar(hostile, [{ name: 'manifest.json', body: s.members.get('manifest.json')! }, { name: s.names[1]!, body: Buffer.alloc(64 * 1024 * 1024 + 1, 0x20) }]);
      const target = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
      await expect(target.importSnapshot(hostile)).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE', message: expect.stringMatching(/above the limit/) });
      expect(await target.getLog()).toEqual([]);
      await target.shutdown();
    });
  });

  describe('refuses crafted entries the store could not read back, with no objects left', () => {
    /** An archive in the exact format, with one crafted version after a good one. */
    async function craftedArchive(dir: string, crafted: { timestamp?: string; version?: number; text: string }): Promise<string> {
      const versions = [
        { logicalKey: 'good', timestamp: '2025-01-01T00:00:00.000Z', version: 1, text: '{"fine":true}' },
        { logicalKey: 'crafted', timestamp: crafted.timestamp ?? '2025-01-01T00:00:00.000Z', version: crafted.version ?? 1, text: crafted.text },
      ].sort((a, b) => (a.logicalKey < b.logicalKey ? -1 : 1));
      const entries = versions.map((v) => {
        const serialized = Buffer.from(v.text);
        return {
          file: `entries/${v.logicalKey}/${v.timestamp.replaceAll(':', '-')}.json`,
          fullKey: `${v.logicalKey}_${v.timestamp}`,
          logicalKey: v.logicalKey,
          version: v.version,
          checksum: createHash('sha256').update(serialized).digest('hex'),
          size: serialized.length,
          compressed: false,
          tags: {},
          source: 'crafted',
          phase: 'p',
          created: '2025-01-01T00:00:00.000Z',
        };
      });
      const snapshotId = 'snapshot_p_2025-01-02T00:00:00.000Z';
      const manifest = { format: 1, type: 'ae-state-snapshot', storeFormat: 1, snapshotId, phase: 'p', entities: null, timestamp: '2025-01-02T00:00:00.000Z', tree: 'a'.repeat(64), entryCount: 2, entries };
      const path = join(dir, 'crafted.tar');
      await buildTar(path, [{ name: 'manifest.json', body: JSON.stringify(manifest) }, ...entries.map((e, i) => ({ name: e.file, body: versions[i]!.text }))]);
      return path;
    }

    const deep = `${'['.repeat(100_000)}0${']'.repeat(100_000)}`;
    const cases: Array<[string, { timestamp?: string; version?: number; text: string }, RegExp]> = [
      ['a timestamp in year 9999', { timestamp: '9999-12-31T23:59:59.999Z', text: '{"a":1}' }, /no room for later saves/],
      ['version 2^53 - 1', { version: 2 ** 53 - 1, text: '{"a":1}' }, /above the limit/],
      ['an entry that does not decode: {"$ae":"object","entries":5}', { text: '{"$ae":"object","entries":5}' }, /does not decode/],
      ['a tagged value that does not serialise back the same', { text: '{"$ae":"bytes","base64":"!!!"}' }, /same bytes/],
      ['data nested 100,000 levels deep', { text: deep }, /nested more than 1000/],
    ];
    for (const [what, crafted, message] of cases) {
      it(what, async () => {
        const targetRoot = await tempProject();
        const tar = await craftedArchive(targetRoot, crafted);
        const target = new EnhancedStateManager(targetRoot, { gcInterval: 0 });
        await expect(target.importSnapshot(tar)).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE', message: expect.stringMatching(message) });
        expect(await target.getLog()).toEqual([]);
        expect(await readdir(join(targetRoot, '.ae', 'objects'), { recursive: true, withFileTypes: true }).then((all) => all.filter((d) => d.isFile()))).toEqual([]);
        await target.saveSSOT('crafted', { next: 1 });
        expect(await target.loadSSOT('crafted')).toEqual({ next: 1 });
        await target.shutdown();
      });
    }

    it('accepts the same archive with plain entries, which then load, export and fsck clean', async () => {
      const targetRoot = await tempProject();
      const tar = await craftedArchive(targetRoot, { text: '{"$ae":"object","entries":[["$ae","object"],["entries",5]]}' });
      const target = new EnhancedStateManager(targetRoot, { gcInterval: 0 });
      await expect(target.importSnapshot(tar)).resolves.toMatchObject({ published: 2 });
      expect(await target.loadSSOT('crafted')).toEqual({ $ae: 'object', entries: 5 });
      expect((await target.exportState()).entries).toHaveLength(2);
      expect(await target.fsck()).toMatchObject({ ok: true });
      await target.shutdown();
    });
  });
});
