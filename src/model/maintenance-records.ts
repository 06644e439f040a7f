/**
 * The summaries of the last garbage collection and the last fsck that ran on
 * this machine, kept in `local/last-gc.json` and `local/last-fsck.json` (see
 * docs/FORMAT.md). Pure shapes, builders and the one validator; the I/O is in
 * src/manager/maintenance-records.ts. The files are local, but a reader still
 * treats them as untrusted: anything that does not match reads as no record.
 */

export const MAINTENANCE_RECORD_FORMAT = 1;
/** A record keeps the first problems only: enough to see what is wrong, bounded in size. */
export const RECORDED_PROBLEMS = 5;
const MAX_TEXT = 500;

export interface GcRecord {
  format: number;
  finishedAt: string;
  durationMs: number;
  expiredCount: number;
  keptBySnapshot: number;
  keptAsNewest: number;
  removedObjects: number;
  freedBytes: number;
  /** Unpublished refs, staging files and temp files of killed writers, together. */
  removedDebris: number;
  graceSeconds: number;
}

export interface RecordedProblem {
  code: string;
  severity: 'error' | 'warning';
  /** Relative to the store directory. */
  path: string;
  message: string;
}

export interface FsckRecord {
  format: number;
  finishedAt: string;
  durationMs: number;
  repair: boolean;
  ok: boolean;
  errors: number;
  warnings: number;
  repaired: number;
  checked: { objects: number; refs: number; commits: number; tags: number };
  /** The first `RECORDED_PROBLEMS` problems, in the report's order. */
  problems: RecordedProblem[];
  /** How many problems the report had in all. */
  problemCount: number;
}

export interface MaintenanceRecords {
  lastGc: GcRecord | null;
  lastFsck: FsckRecord | null;
}

const GC_COUNTS = ['durationMs', 'expiredCount', 'keptBySnapshot', 'keptAsNewest', 'removedObjects', 'freedBytes', 'removedDebris', 'graceSeconds'] as const;
const FSCK_COUNTS = ['durationMs', 'errors', 'warnings', 'repaired', 'problemCount'] as const;
const CHECKED = ['objects', 'refs', 'commits', 'tags'] as const;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Cuts a problem's text to a bounded length, so one odd path cannot grow the record. */
export function boundedText(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

type Untrusted = Record<string, unknown>;

function isObject(value: unknown): value is Untrusted {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TEXT;
}

function hasHeader(value: unknown): value is Untrusted {
  return isObject(value) && value.format === MAINTENANCE_RECORD_FORMAT && typeof value.finishedAt === 'string' && ISO_TIME.test(value.finishedAt);
}

function isRecordedProblem(value: unknown): boolean {
  return isObject(value) && isText(value.code) && (value.severity === 'error' || value.severity === 'warning') && isText(value.path) && isText(value.message);
}

/** The parsed content of `local/last-gc.json` when it is a valid record, else null. */
export function validGcRecord(value: unknown): GcRecord | null {
  if (!hasHeader(value) || !GC_COUNTS.every((name) => isCount(value[name]))) return null;
  return value as unknown as GcRecord;
}

/** The parsed content of `local/last-fsck.json` when it is a valid record, else null. */
export function validFsckRecord(value: unknown): FsckRecord | null {
  if (!hasHeader(value) || !FSCK_COUNTS.every((name) => isCount(value[name]))) return null;
  if (typeof value.repair !== 'boolean' || typeof value.ok !== 'boolean') return null;
  const { checked, problems } = value;
  if (!isObject(checked) || !CHECKED.every((name) => isCount(checked[name]))) return null;
  if (!Array.isArray(problems) || problems.length > RECORDED_PROBLEMS || !problems.every(isRecordedProblem)) return null;
  return value as unknown as FsckRecord;
}
