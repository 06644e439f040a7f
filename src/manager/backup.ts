/**
 * Whole-state backups in the original single-file layout (src/model/backup.ts)
 * and the migration of an original database file into the store.
 */
import { basename, dirname, resolve } from 'node:path';
import { CommitNotDurableError, InvalidBackupError, UnsupportedFormatError } from '../errors.js';
import { buildBackup, decodeBackup, type BackupEntry, type DecodedBackupEntry, type StateBackup } from '../model/backup.js';
import { timestampToFileStem } from '../model/keys.js';
import { lastTakenVersion } from '../model/records.js';
import { syncDirs } from '../store/atomic-write.js';
import { isErrno, type StoreFs } from '../store/fs.js';
import { PackWriter } from '../store/pack-writer.js';
import type { StagedVersion } from '../store/publish.js';
import { WritePool } from '../store/write-pool.js';
import type { StoreContext } from './context.js';
import { publishImportedLocked, removeCreatedObjects, sortForImport, type ImportResult } from './import-versions.js';
import { listAllKeys } from './key-catalog.js';
import { readEntry } from './versions.js';
import { reportNothingToPublish } from './performance-metrics.js';

/** Every visible version of every key, in the original database's layout. */
export async function exportState(ctx: StoreContext): Promise<StateBackup> {
  const entries: BackupEntry[] = [];
  // Numbers a key has reserved go into versionIndex, so a restore continues after them too.
  const lastTaken: Record<string, number> = {};
  for (const { logicalKey, versions } of await listAllKeys(ctx)) {
    for (const found of versions) {
      const entry: BackupEntry = await readEntry(ctx, found);
      // Without the marker a restore would take the written defaultTTL as the version's own ttl.
      if (found.record.ttl === undefined) entry.metadata = { ...entry.metadata, ttlFromDefault: true };
      entries.push(entry);
    }
    const newest = versions.at(-1);
    if (newest !== undefined) lastTaken[logicalKey] = lastTakenVersion(newest);
  }
  return buildBackup(entries, { ...ctx.options }, new Date(ctx.clock()).toISOString(), lastTaken);
}

/**
 * Imports a backup object: validated whole first, then published as one
 * commit with every version's timestamp, number, tags, ttl and metadata
 * (see src/manager/import-versions.ts for versions that collide).
 */
export async function importState(ctx: StoreContext, state: unknown): Promise<ImportResult> {
  const decoded = decodeBackup(state);
  const result = await importDecoded(ctx, decoded, 'import backup');
  if (result.commit === null) reportNothingToPublish(ctx, { operation: 'importState' });
  ctx.events.emit('stateImported', { entryCount: decoded.length, published: result.published, skipped: result.skipped, commit: result.commit });
  return result;
}

async function importDecoded(ctx: StoreContext, decoded: DecodedBackupEntry[], message: string, locked = false): Promise<ImportResult> {
  if (decoded.length === 0) return { records: [], commit: null, published: 0, present: 0, older: 0, skipped: 0 };
  const run = async (): Promise<ImportResult> => {
    const staged: StagedVersion[] = [];
    const created = new Set<string>();
    const pool = new WritePool(16);
    // The new objects go into one pack, published with the commit.
    const pack = new PackWriter(ctx.fs, ctx.layout, ctx.objects);
    try {
      for (const entry of decoded) await pool.add(async () => void staged.push(await stageDecoded(ctx, entry, created, pack)));
      await pool.drain();
      const { olderVersions, ...result } = await publishImportedLocked(ctx, sortForImport(staged), message, pack);
      // Versions skipped as older are named by nothing: their new objects go again.
      const named = new Set(result.records.map((record) => record.checksum));
      await removeCreatedObjects(ctx, olderVersions.map((v) => v.checksum).filter((checksum) => created.has(checksum) && !named.has(checksum)));
      return result;
    } catch (error) {
      // A failed import leaves no objects behind (see removeCreatedObjects),
      // once the writes still in flight have settled.
      await pool.settle();
      if (!(error instanceof CommitNotDurableError)) await pack.withdraw();
      await removeCreatedObjects(ctx, created);
      throw error;
    } finally {
      await pack.discard();
    }
  };
  // Objects are written under the lock too: a backup is in memory already,
  // and holding the lock keeps garbage collection away from them until the
  // commit names them.
  return locked ? run() : ctx.withWriteLock(run);
}

async function stageDecoded(ctx: StoreContext, entry: DecodedBackupEntry, created: Set<string>, pack: PackWriter): Promise<StagedVersion> {
  const compress = ctx.options.enableCompression && entry.serialized.length > ctx.options.compressionThreshold;
  // Made durable by the commit that publishes it (publishCommit syncs its objects).
  const stored = await pack.write(entry.serialized, compress);
  // A reused object has no directory to sync; a new one does.
  if (stored.dirsToSync.length > 0) created.add(stored.checksum);
  const staged: StagedVersion = {
    logicalKey: entry.logicalKey,
    timestamp: entry.timestamp,
    version: entry.version,
    checksum: stored.checksum,
    compressed: stored.compressed,
    size: entry.serialized.length,
    tags: entry.tags,
    source: entry.source,
    created: entry.created,
  };
  if (entry.ttl !== undefined) staged.ttl = entry.ttl;
  if (entry.phase !== undefined) staged.phase = entry.phase;
  if (entry.git !== undefined) staged.git = entry.git;
  if (entry.entryId !== undefined) staged.entryId = entry.entryId;
  if (entry.reservedThrough !== undefined) staged.reservedThrough = entry.reservedThrough;
  return staged;
}

export interface MigrationResult {
  /** The database file that was imported. */
  path: string;
  /** Where it was renamed to. */
  backupPath: string;
  entryCount: number;
  commit: string | null;
  /** Versions newly published, already present, and skipped as older (src/manager/import-versions.ts). */
  published: number;
  present: number;
  older: number;
}

/** Absolute path of the `databasePath` option, relative to the project root. */
export function databaseFileOf(ctx: StoreContext): string {
  return resolve(ctx.layout.root, ctx.options.databasePath);
}

/**
 * Imports the original single-file database at `databasePath` and renames it
 * to `<name>.migrated-<timestamp stem>`. With `onlyIntoEmptyStore` (the
 * automatic migration on open) nothing happens when the store has commits.
 * Returns null when there is nothing to migrate. A malformed file or one of
 * an unknown version throws, and the file and the store stay as they were.
 */
export async function migrateDatabase(ctx: StoreContext, onlyIntoEmptyStore: boolean): Promise<MigrationResult | null> {
  const path = databaseFileOf(ctx);
  // The common case, a store without a legacy file, costs this one stat.
  if (!(await fileExists(ctx.fs, path))) return null;
  const result = await ctx.withWriteLock(async () => {
    // Another process may have migrated, or saved, while this one waited for the lock.
    if (!(await fileExists(ctx.fs, path))) return null;
    if (onlyIntoEmptyStore && (await ctx.commits.head()) !== null) return null;
    const decoded = decodeDatabase(parseDatabase(await ctx.fs.readFile(path), path), path);
    const imported = await importDecoded(ctx, decoded, `migrate ${basename(path)}`, true);
    const backupPath = `${path}.migrated-${timestampToFileStem(new Date(ctx.clock()).toISOString())}`;
    // The import is durable before the rename: a crash in between leaves the
    // file in place, and migrating again finds every version already there.
    await ctx.fs.rename(path, backupPath);
    await syncDirs(ctx.fs, [dirname(path)]);
    return { path, backupPath, entryCount: decoded.length, commit: imported.commit, published: imported.published, present: imported.present, older: imported.older };
  });
  if (result !== null && result.commit === null) reportNothingToPublish(ctx, { operation: 'migrate' });
  if (result !== null) ctx.events.emit('stateMigrated', result);
  return result;
}

/** `decodeBackup`, with errors that name the file. */
function decodeDatabase(state: unknown, path: string): DecodedBackupEntry[] {
  try {
    return decodeBackup(state);
  } catch (error) {
    const message = `${path}: ${(error as Error).message}; it was left unchanged`;
    if (error instanceof UnsupportedFormatError) throw new UnsupportedFormatError(message, { ...error.data, path });
    if (error instanceof InvalidBackupError) throw new InvalidBackupError(message, { ...error.data, path });
    throw error;
  }
}

function parseDatabase(bytes: Buffer, path: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new InvalidBackupError(`${path} is not valid JSON (${(error as Error).message}); it was left unchanged`, { path });
  }
}

/** Whether `path` is a regular file; a link (a clone may commit one) is not, and fsck reports it. */
async function fileExists(fs: StoreFs, path: string): Promise<boolean> {
  try {
    return (await fs.lstat(path)).isFile();
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
    throw error;
  }
}
