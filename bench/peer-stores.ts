/**
 * The stores the peer benchmark compares ae-state with, each doing the same
 * durable, verified, compressed save: SQLite (WAL, synchronous=FULL, one
 * transaction per save), the raw loop (gzip + sha256 + write + fsync +
 * rename + directory fsync) and the measured floor of ae-state's own on-disk
 * shape (object, ref and commit file written directly, in the two fsync
 * rounds the commit protocol needs, without lock, staging or temporary files).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { StoreFs } from '../src/store/fs.js';
import { nodeFs } from '../src/store/fs.js';

export interface Payload {
  logicalKey: string;
  bytes: Buffer;
}

/** SQLite as a user would set it up for this job: one table, WAL, every commit durable. */
export class SqliteStore {
  private readonly db: Database.Database;
  private readonly latest: Database.Statement;
  private readonly insert: Database.Statement;
  readonly saveOne: (payload: Payload) => void;
  readonly saveMany: (payloads: Payload[]) => void;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS versions (
      logical_key TEXT NOT NULL, version INTEGER NOT NULL, ts TEXT NOT NULL, checksum TEXT NOT NULL, data BLOB NOT NULL,
      PRIMARY KEY (logical_key, version))`);
    this.latest = this.db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM versions WHERE logical_key = ?');
    this.insert = this.db.prepare('INSERT INTO versions VALUES (?, ?, ?, ?, ?)');
    const write = (payload: Payload) => {
      const version = (this.latest.get(payload.logicalKey) as { v: number }).v + 1;
      const checksum = createHash('sha256').update(payload.bytes).digest('hex');
      this.insert.run(payload.logicalKey, version, new Date().toISOString(), checksum, gzipSync(payload.bytes));
    };
    // BEGIN IMMEDIATE: a deferred transaction that reads the newest version
    // before writing fails with SQLITE_BUSY when another writer got there first.
    this.saveOne = this.db.transaction(write).immediate;
    this.saveMany = this.db.transaction((payloads: Payload[]) => payloads.forEach(write)).immediate;
  }

  close(): void {
    this.db.close();
  }
}

function fsyncPath(path: string): Promise<void> {
  const fd = fs.openSync(path, 'r');
  return new Promise((resolve, reject) =>
    fs.fsync(fd, (error) => {
      fs.closeSync(fd);
      if (error) reject(error);
      else resolve();
    }),
  );
}

function writeNew(path: string, bytes: Uint8Array): number {
  const fd = fs.openSync(path, 'wx');
  fs.writeSync(fd, bytes);
  return fd;
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) =>
    fs.fsync(fd, (error) => {
      fs.closeSync(fd);
      if (error) reject(error);
      else resolve();
    }),
  );
}

/** The raw loop: gzip + sha256 + write temp + fsync + rename + directory fsync. Two fsyncs a save. */
export async function rawSave(dir: string, payload: Payload): Promise<void> {
  const name = createHash('sha256').update(payload.bytes).digest('hex');
  const temp = join(dir, `${name}.tmp`);
  await fsyncFd(writeNew(temp, gzipSync(payload.bytes)));
  fs.renameSync(temp, join(dir, name));
  await fsyncPath(dir);
}

/** The raw loop for a batch: each file written and fsynced, one directory fsync at the end. */
export async function rawSaveMany(dir: string, payloads: Payload[]): Promise<void> {
  for (const payload of payloads) {
    const name = createHash('sha256').update(payload.bytes).digest('hex');
    const temp = join(dir, `${name}.tmp`);
    await fsyncFd(writeNew(temp, gzipSync(payload.bytes)));
    fs.renameSync(temp, join(dir, name));
  }
  await fsyncPath(dir);
}

let floorCounter = 0;

/**
 * The least one save costs in ae-state's on-disk shape: the object created
 * in place (O_EXCL) in its existing fan-out folder, the version's ref
 * created in its key's folder, both files and both folders fsynced in one
 * parallel round, then the commit file created and fsynced with its folder
 * in a second round (the commit must not be durable before what it names).
 * Six fsyncs in two rounds.
 */
export async function floorSave(store: string, payload: Payload): Promise<void> {
  const checksum = createHash('sha256').update(payload.bytes).digest('hex');
  const objectDir = join(store, 'objects', checksum.slice(0, 2));
  const keyDir = join(store, 'refs', 'keys', payload.logicalKey);
  const commitsDir = join(store, 'commits');
  const n = floorCounter++;
  const ref = JSON.stringify({ format: 1, logicalKey: payload.logicalKey, version: n, checksum, timestamp: new Date().toISOString() });
  const objectFd = writeNew(join(objectDir, checksum.slice(2)), gzipSync(payload.bytes));
  const refFd = writeNew(join(keyDir, `${n}.json`), Buffer.from(ref));
  await Promise.all([fsyncFd(objectFd), fsyncFd(refFd), fsyncPath(objectDir), fsyncPath(keyDir)]);
  const commitFd = writeNew(join(commitsDir, `${n}.json`), Buffer.from(JSON.stringify({ format: 1, refs: [`${n}.json`] })));
  await Promise.all([fsyncFd(commitFd), fsyncPath(commitsDir)]);
}

/**
 * The least a 100-save transaction costs in the ref-per-file shape, its
 * objects left out (a pack costs two fsyncs whatever its size): each
 * version's ref created in its key's folder and fsynced, all in parallel,
 * with the key folders; then one commit file fsynced with its folder.
 * Refs + folders + 2 fsyncs.
 */
export async function floorTransaction(store: string, payloads: Payload[]): Promise<void> {
  const n = floorCounter++;
  const refs = payloads.map((payload, i) => {
    const checksum = createHash('sha256').update(payload.bytes).digest('hex');
    const keyDir = join(store, 'refs', 'keys', payload.logicalKey);
    const ref = JSON.stringify({ format: 1, logicalKey: payload.logicalKey, version: n, checksum, timestamp: new Date().toISOString() });
    return { keyDir, fd: writeNew(join(keyDir, `${n}-${i}.json`), Buffer.from(ref)) };
  });
  await Promise.all([...refs.map((r) => fsyncFd(r.fd)), ...[...new Set(refs.map((r) => r.keyDir))].map(fsyncPath)]);
  const commitsDir = join(store, 'commits');
  const commitFd = writeNew(join(commitsDir, `tx${n}.json`), Buffer.from(JSON.stringify({ format: 1, refs: refs.length })));
  await Promise.all([fsyncFd(commitFd), fsyncPath(commitsDir)]);
}

/** Prepares the folders `floorSave` expects to exist, as they do in a store that has seen saves. */
export function prepareFloor(store: string, logicalKeys: string[]): void {
  for (let i = 0; i < 256; i++) fs.mkdirSync(join(store, 'objects', i.toString(16).padStart(2, '0')), { recursive: true });
  for (const key of logicalKeys) fs.mkdirSync(join(store, 'refs', 'keys', key), { recursive: true });
  fs.mkdirSync(join(store, 'commits'), { recursive: true });
}

export interface FsCounts {
  fsync: number;
  open: number;
  rename: number;
  link: number;
  unlink: number;
}

/** Node's file system for the store, counting the calls that cost: every fsync, open, rename, link and unlink. */
export function countingFs(): { fs: StoreFs; counts: FsCounts; reset(): void } {
  const counts: FsCounts = { fsync: 0, open: 0, rename: 0, link: 0, unlink: 0 };
  const base = nodeFs as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const wrapped: Record<string, unknown> = { ...base };
  wrapped.open = async (...args: unknown[]) => {
    counts.open++;
    const handle = (await base.open!(...args)) as { sync(): Promise<void> };
    const sync = handle.sync.bind(handle);
    handle.sync = () => {
      counts.fsync++;
      return sync();
    };
    return handle;
  };
  for (const name of ['rename', 'link', 'unlink'] as const) {
    wrapped[name] = (...args: unknown[]) => {
      counts[name]++;
      return base[name]!(...args);
    };
  }
  return {
    fs: wrapped as unknown as StoreFs,
    counts,
    reset: () => Object.assign(counts, { fsync: 0, open: 0, rename: 0, link: 0, unlink: 0 }),
  };
}
