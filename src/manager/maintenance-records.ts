/**
 * Keeps the summary of the last garbage collection and the last fsck in
 * `local/last-gc.json` and `local/last-fsck.json`, for the web view's Health
 * page. A record is advisory: writing it never fails the run it describes
 * (a failed write leaves the previous record, or none), and a record that
 * cannot be read or does not validate reads as none.
 */
import { join, relative } from 'node:path';
import {
  boundedText,
  MAINTENANCE_RECORD_FORMAT,
  RECORDED_PROBLEMS,
  validFsckRecord,
  validGcRecord,
  type FsckRecord,
  type GcRecord,
  type MaintenanceRecords,
} from '../model/maintenance-records.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { readFileIfExists } from '../store/fs.js';
import type { StoreContext } from './context.js';
import type { FsckResult } from './fsck-report.js';
import type { GarbageCollectionResult } from './retention.js';

const GC_FILE = 'last-gc.json';
const FSCK_FILE = 'last-fsck.json';

/** Records a finished garbage collection; never throws. */
export async function saveGcRecord(ctx: StoreContext, result: GarbageCollectionResult): Promise<void> {
  const record: GcRecord = {
    format: MAINTENANCE_RECORD_FORMAT,
    finishedAt: new Date().toISOString(),
    durationMs: result.durationMs,
    expiredCount: result.expiredCount,
    keptBySnapshot: result.keptBySnapshot,
    keptAsNewest: result.keptAsNewest,
    removedObjects: result.removedObjects,
    freedBytes: result.freedBytes,
    removedDebris: result.removedUnpublishedRefs + result.removedStagingFiles + result.removedTempFiles,
    graceSeconds: result.graceSeconds,
  };
  await saveRecord(ctx, GC_FILE, record);
}

/** Records a finished fsck (counts and the first problems only); never throws. */
export async function saveFsckRecord(ctx: StoreContext, result: FsckResult, repair: boolean): Promise<void> {
  const record: FsckRecord = {
    format: MAINTENANCE_RECORD_FORMAT,
    finishedAt: new Date().toISOString(),
    durationMs: result.durationMs,
    repair,
    ok: result.ok,
    errors: result.errors,
    warnings: result.warnings,
    repaired: result.repaired,
    checked: { ...result.checked },
    problems: result.problems.slice(0, RECORDED_PROBLEMS).map((p) => ({
      code: p.code,
      severity: p.severity,
      path: boundedText(relative(ctx.layout.store, p.path)),
      message: boundedText(p.message),
    })),
    problemCount: result.problems.length,
  };
  await saveRecord(ctx, FSCK_FILE, record);
}

/**
 * Written through `StoreFs` (so a link where the file or `local/` belongs is
 * refused, not followed) and atomically, so a reader sees a whole record. No
 * directory fsync: losing the newest record to a machine crash loses nothing
 * the store relies on.
 */
async function saveRecord(ctx: StoreContext, name: string, record: GcRecord | FsckRecord): Promise<void> {
  try {
    await writeFileAtomic(ctx.fs, ctx.layout.tmp, join(ctx.layout.local, name), Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
  } catch {
    // A read-only disk, a full one or a damaged local/: the run stands, it just leaves no record.
  }
}

/** The last gc and fsck records of this machine, null each where there is none or it does not validate. */
export async function readMaintenanceRecords(ctx: StoreContext): Promise<MaintenanceRecords> {
  const [gc, fsck] = await Promise.all([readRecord(ctx, GC_FILE), readRecord(ctx, FSCK_FILE)]);
  return { lastGc: validGcRecord(gc), lastFsck: validFsckRecord(fsck) };
}

async function readRecord(ctx: StoreContext, name: string): Promise<unknown> {
  try {
    const bytes = await readFileIfExists(ctx.fs, join(ctx.layout.local, name));
    return bytes === null ? null : JSON.parse(bytes.toString('utf8'));
  } catch {
    // Torn, not JSON, a link, a directory: an advisory record that cannot be read is no record.
    return null;
  }
}
