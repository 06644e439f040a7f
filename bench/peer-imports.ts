/**
 * Bulk writes beside SQLite: a JSON import of 10,000 versions and the import
 * of a 10,000-entry snapshot tar, each into a fresh store, against SQLite
 * writing the same 10,000 documents (gzip + sha256 per row) in one durable
 * transaction into a fresh database; and `ae-state add` of a tree of 1,000
 * specification files against SQLite reading the same files and writing
 * them in one transaction.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnhancedStateManager } from '../src/index.js';
import { benchDir, fmt, median, sampleAeIr } from './fixtures.js';
import { countingFs, SqliteStore, type Payload } from './peer-stores.js';
import { fsyncsUnderStrace } from './peer-processes.js';
import type { PeerRow } from './peers.js';

const VERSIONS = 10_000;
/** Files of the `add` row: 10 folders of 100. */
const FILES = 1_000;
const FOLDERS = 10;

/** `count` versions of `keys` keys (round robin), numbered per key in order. */
function backupOf(count: number, keys: number) {
  const doc = sampleAeIr();
  const start = Date.now() - count;
  const entries = Array.from({ length: count }, (_, i) => {
    const timestamp = new Date(start + i).toISOString();
    const data = { ...doc, revision: i, name: `Specification ${i}` };
    return {
      logicalKey: `bench.entity_${i % keys}.specification`,
      timestamp,
      version: Math.floor(i / keys) + 1,
      checksum: createHash('sha256').update(JSON.stringify(data)).digest('hex'),
      data,
      compressed: false,
      tags: {},
      metadata: { created: timestamp, source: 'bench', phase: 'bench' },
    };
  });
  return { metadata: { version: '1.0.0', timestamp: new Date().toISOString(), options: {} }, entries };
}

/** A project holding FILES specification files under specs/; their relative paths. */
async function specTree(project: string): Promise<string[]> {
  const doc = sampleAeIr();
  const paths: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const folder = `specs/domain_${i % FOLDERS}`;
    await mkdir(join(project, folder), { recursive: true });
    const path = `${folder}/entity_${i}.json`;
    await writeFile(join(project, path), JSON.stringify({ ...doc, revision: i, name: `Specification ${i}` }, null, 2));
    paths.push(path);
  }
  return paths;
}

/** `ae-state add 'specs/**\/*.json'` into a fresh store, against SQLite reading the same files into one transaction. */
async function addRow(dir: string, rounds: number): Promise<PeerRow> {
  const add: number[] = [], sqlite: number[] = [];
  let fsyncs = 0;
  for (let round = 0; round < rounds; round++) {
    const project = join(dir, `add${round}`);
    const paths = await specTree(project);
    const counter = countingFs();
    const manager = new EnhancedStateManager(project, { gcInterval: 0 }, { fs: counter.fs });
    let saved = 0;
    add.push(await timed(async () => void (saved = (await manager.addFiles('specs/**/*.json')).files.filter((f) => f.status === 'saved').length)));
    // The row must do SQLite's work: every file saved.
    if (saved !== FILES) throw new Error(`add saved ${saved} files, not ${FILES}`);
    fsyncs += counter.counts.fsync;
    await manager.shutdown();
    const db = new SqliteStore(join(dir, `add${round}.sqlite`));
    // Read synchronously: the quickest way for SQLite's side.
    sqlite.push(await timed(() => db.saveMany(paths.map((path) => ({ logicalKey: path.replace(/\.json$/, '').split('/').join('.'), bytes: readFileSync(join(project, path)) })))));
    db.close();
    await rm(project, { recursive: true, force: true });
  }
  const sqliteFsyncs = await fsyncsUnderStrace(dir, 'batch', FILES);
  return { work: `ae-state add of ${FILES.toLocaleString('en-US')} files (fresh store)`, ae: median(add), aeFsyncs: fmt(fsyncs / rounds, 0), sqlite: median(sqlite), sqliteFsyncs, raw: null, rawFsyncs: '—' };
}

async function timed(work: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

export async function runPeerImports(rounds: number): Promise<PeerRow[]> {
  const dir = await benchDir('peer-imports');
  const backup = backupOf(VERSIONS, 1000);
  const payloads: Payload[] = backup.entries.map((e) => ({ logicalKey: e.logicalKey, bytes: Buffer.from(JSON.stringify(e.data)) }));
  // A snapshot holds each key's newest version: 10,000 keys make its 10,000 entries.
  const source = new EnhancedStateManager(join(dir, 'source'), { gcInterval: 0 });
  await source.importState(backupOf(VERSIONS, VERSIONS));
  const snapshotId = await source.createSnapshot('bench');
  const tarFile = join(dir, 'snapshot.tar');
  await source.exportSnapshot(snapshotId, tarFile);
  await source.shutdown();

  const json: number[] = [], tar: number[] = [], sqlite: number[] = [];
  let jsonFsyncs = 0, tarFsyncs = 0;
  for (let round = 0; round < rounds; round++) {
    const counter = countingFs();
    const a = new EnhancedStateManager(join(dir, `json${round}`), { gcInterval: 0 }, { fs: counter.fs });
    json.push(await timed(() => a.importState(backup)));
    jsonFsyncs += counter.counts.fsync;
    await a.shutdown();
    counter.reset();
    const b = new EnhancedStateManager(join(dir, `tar${round}`), { gcInterval: 0 }, { fs: counter.fs });
    let imported = 0;
    tar.push(await timed(async () => void (imported = (await b.importSnapshot(tarFile)).published)));
    // Each row must do SQLite's work: 10,000 versions.
    if (imported !== VERSIONS) throw new Error(`the tar import published ${imported} versions, not ${VERSIONS}`);
    tarFsyncs += counter.counts.fsync;
    await b.shutdown();
    const db = new SqliteStore(join(dir, `peer${round}.sqlite`));
    sqlite.push(await timed(() => db.saveMany(payloads)));
    db.close();
    await rm(join(dir, `json${round}`), { recursive: true, force: true });
    await rm(join(dir, `tar${round}`), { recursive: true, force: true });
  }
  const sqliteFsyncs = await fsyncsUnderStrace(dir, 'batch', VERSIONS);
  const added = await addRow(dir, rounds);
  await rm(dir, { recursive: true, force: true });
  return [
    { work: 'JSON import of 10,000 versions (fresh store)', ae: median(json), aeFsyncs: fmt(jsonFsyncs / rounds, 0), sqlite: median(sqlite), sqliteFsyncs, raw: null, rawFsyncs: '—' },
    { work: 'tar import of a 10,000-entry snapshot (fresh store)', ae: median(tar), aeFsyncs: fmt(tarFsyncs / rounds, 0), sqlite: median(sqlite), sqliteFsyncs, raw: null, rawFsyncs: '—' },
    added,
  ];
}
