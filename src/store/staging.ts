/**
 * Reading `local/staging/<id>.json`, the list of objects each open
 * transaction or import (in any process of this machine) has written. Garbage
 * collection keeps those objects; files left by processes that no longer run
 * belong to transactions that can never commit.
 */
import { join } from 'node:path';
import { isChecksum } from '../model/records.js';
import { writeNewFileFlushing } from './atomic-write.js';
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
 * A publish record, `local/staging/<commit id>.<pid>.publish`, is created
 * before a commit writes its refs and holds the commit file's bytes: at the
 * commit point it is renamed into `commits/`, so it stops being a publish
 * record at the very instant its commit becomes visible. It is what makes
 * an unpublished ref provably debris: a ref whose commit is missing is
 * removed only when a dead writer's publish record names that commit; any
 * other such ref is reported, never deleted. The fsync of `local/staging/`
 * beside the ref directories makes it durable before the commit point.
 * Readers go by its name alone (records left empty by older versions of the
 * store read alike).
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

/**
 * Creates the publish record of a commit about to write its refs, holding
 * the commit's bytes, and answers its path. Its fsync starts at once, on the
 * descriptor that wrote it, and is not waited for here (`flushed`);
 * `local/staging/` is not fsynced here either: the caller waits for both
 * with the refs.
 */
export async function writePublishRecord(
  fs: StoreFs,
  layout: StoreLayout,
  commitId: string,
  commitBytes: Uint8Array,
): Promise<{ path: string; flushed: Promise<void> }> {
  const path = publishRecordPath(layout, commitId);
  const write = async () => {
    try {
      const { flushed } = await writeNewFileFlushing(fs, path, commitBytes, async () => undefined);
      return { path, flushed };
    } catch (error) {
      // A record cut short by a failed write names no ref yet: take it back.
      if (!isErrno(error, 'EEXIST') && !isErrno(error, 'ENOENT')) await fs.unlink(path).catch(() => undefined);
      throw error;
    }
  };
  try {
    return await write();
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    await fs.mkdir(layout.staging, { recursive: true });
    return await write();
  }
}

/** Removes the publish record of a commit that failed before its commit point, once its refs are gone. */
export async function removePublishRecord(fs: StoreFs, layout: StoreLayout, commitId: string): Promise<void> {
  await fs.unlink(publishRecordPath(layout, commitId)).catch(() => undefined);
}
