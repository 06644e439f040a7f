/**
 * Reading `local/staging/<id>.json`, the list of objects each open
 * transaction or import (in any process of this machine) has written. Garbage
 * collection keeps those objects; files left by processes that no longer run
 * belong to transactions that can never commit.
 */
import { join } from 'node:path';
import { isChecksum } from '../model/records.js';
import { isErrno, readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import { isProcessAlive } from './process.js';

export interface StagingPins {
  /** Objects written by transactions that are still open. */
  checksums: Set<string>;
  /** Staging files whose owner process is gone. */
  deadFiles: string[];
  /** Staging files that cannot be read as a staging index. */
  invalidFiles: string[];
}

export async function readStagingPins(fs: StoreFs, layout: StoreLayout): Promise<StagingPins> {
  const pins: StagingPins = { checksums: new Set(), deadFiles: [], invalidFiles: [] };
  const names = (await readdirIfExists(fs, layout.staging)).filter((name) => name.endsWith('.json'));
  for (const name of names) {
    const path = join(layout.staging, name);
    const bytes = await readFileIfExists(fs, path);
    if (bytes === null) continue; // Committed or rolled back meanwhile.
    const index = parseStagingIndex(bytes);
    if (index === null) {
      // Written without fsync by a live writer, so it may be mid-write: keep
      // nothing by it, but do not delete it either.
      pins.invalidFiles.push(path);
    } else if (!isProcessAlive(index.pid)) {
      pins.deadFiles.push(path);
    } else {
      for (const checksum of index.checksums) pins.checksums.add(checksum);
    }
  }
  return pins;
}

/**
 * A staging file is a JSON header line `{txId, pid}` followed by one checksum
 * per line, appended as saves are staged (the last line may be partly
 * written, and is then ignored); a header may also carry all its
 * `checksums` itself (imports write the file whole).
 */
function parseStagingIndex(bytes: Buffer): { pid: number; checksums: string[] } | null {
  const [header, ...lines] = bytes.toString('utf8').split('\n');
  try {
    const parsed = JSON.parse(header!) as { pid?: unknown; checksums?: unknown };
    if (!Number.isSafeInteger(parsed.pid)) return null;
    const listed = Array.isArray(parsed.checksums) ? parsed.checksums : [];
    return { pid: parsed.pid as number, checksums: [...listed, ...lines].filter(isChecksum) };
  } catch {
    return null;
  }
}

/**
 * A publish record, `local/staging/<commit id>.<pid>.publish`, an empty file
 * whose name says everything, is created before a commit writes its refs
 * and removed once the commit is durable. It is what makes an unpublished
 * ref provably debris: a ref whose commit is missing is removed only when a
 * dead writer's publish record names that commit; any other such ref is
 * reported, never deleted. Being empty, it needs no fsync of its own: the
 * fsync of `local/staging/` beside the ref directories makes it durable
 * before the commit point.
 */
const PUBLISH_NAME = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z_[0-9a-f]{16})\.([1-9]\d{0,9})\.publish$/;

export function publishRecordPath(layout: StoreLayout, commitId: string, pid = process.pid): string {
  return join(layout.staging, `${commitId}.${pid}.publish`);
}

export interface PendingCommits {
  /** Commits a live writer is publishing right now. */
  live: Set<string>;
  /** Commits whose writer died before its commit point: their refs are debris. */
  abandoned: Set<string>;
  /** The publish records of abandoned commits, by commit id. */
  abandonedRecords: Map<string, string>;
}

export async function readPendingCommits(fs: StoreFs, layout: StoreLayout): Promise<PendingCommits> {
  const pending: PendingCommits = { live: new Set(), abandoned: new Set(), abandonedRecords: new Map() };
  for (const name of await readdirIfExists(fs, layout.staging)) {
    const match = PUBLISH_NAME.exec(name);
    if (match === null) continue;
    const [, commitId, pid] = match as unknown as [string, string, string];
    if (isProcessAlive(Number(pid))) pending.live.add(commitId);
    else {
      pending.abandoned.add(commitId);
      pending.abandonedRecords.set(commitId, join(layout.staging, name));
    }
  }
  return pending;
}

/** Creates the publish record of a commit about to write its refs; the caller fsyncs `local/staging/` with the ref directories. */
export async function writePublishRecord(fs: StoreFs, layout: StoreLayout, commitId: string): Promise<void> {
  const path = publishRecordPath(layout, commitId);
  const create = async () => (await fs.open(path, 'wx', 0o644)).close();
  try {
    await create();
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    await fs.mkdir(layout.staging, { recursive: true });
    await create();
  }
}

/** Removes a publish record once its commit is durable (or its refs are gone). */
export async function removePublishRecord(fs: StoreFs, layout: StoreLayout, commitId: string): Promise<void> {
  await fs.unlink(publishRecordPath(layout, commitId)).catch(() => undefined);
}
