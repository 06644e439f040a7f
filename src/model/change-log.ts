/**
 * The change log `local/stats/changes` (docs/FORMAT.md, "Statistics
 * index"): what writers holding the store's lock say they change, so that
 * statistics read again only those directories. Pure: the lines' shapes and
 * what a reader may conclude from them; src/store/change-log.ts appends,
 * src/manager/statistics-index.ts reads.
 *
 * Each hold of the write lock is one session: a begin line before anything
 * is changed, any number of declare lines (each before the changes it
 * names), an end line after the last change. A session without a declare
 * line changed anything at all; one whose end never came (a writer still at
 * work, or killed) may still change what it names. Outside sessions, a line
 * may name objects written without a session that no version will name.
 */
import { isCommitId } from './records.js';

export interface BeginLine {
  b: string;
}

export interface DeclareLine {
  t: string;
  /** Key directory names (under `refs/keys/`) whose files may change. */
  k: string[];
  /** Checksums (64 hex) whose objects may have been written. */
  o: string[];
  /**
   * Of those, the ones the session's saves wrote as new loose files: no file
   * of them existed, loose or packed, when written. Absent in lines of writers
   * that did not say.
   */
  n?: string[];
}


/** Outside any session: objects written that no version may ever name (a rolled-back transaction's). */
export interface LeftObjectsLine {
  s: string[];
}

export interface EndLine {
  e: string;
  /** mtimeMs of `commits/` and `refs/keys/` after the session's changes (-1: missing). */
  c: number;
  r: number;
  /**
   * The commits the session published, or was about to (each named before
   * its rename into `commits/`, so one that failed is named too): the only
   * files it can have added to `commits/`. Absent in lines of writers that
   * did not say.
   */
  m?: string[];
  /** mtimeMs of each object fanout of the declared checksums, after the changes. */
  f: Record<string, number>;
}

/** What the lines read since the index's last offset allow. */
export interface ChangePlan {
  /** False when every directory must be checked (a session changed anything, or died). */
  isPrecise: boolean;
  keyDirs: Set<string>;
  checksums: Set<string>;
  /** Declared checksums that finished sessions wrote as new loose files (their `n`). */
  created: Set<string>;
  /** The commits the finished sessions name (their `m`); null when one of them did not say. */
  commitIds: Set<string> | null;
  /** mtimes the last finished session left, where it gave them. */
  commitsMtimeMs?: number;
  keyRefsMtimeMs?: number;
  fanoutMtimes: Map<string, number>;
  /** Bytes of the text read that the next read may skip: up to the first unfinished session, else all whole lines. */
  consumed: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Reads whole lines of `text` (a last line without its newline is not yet written) into a plan. */
export function planChanges(text: string): ChangePlan {
  const plan: ChangePlan = { isPrecise: true, keyDirs: new Set(), checksums: new Set(), created: new Set(), commitIds: new Set(), fanoutMtimes: new Map(), consumed: 0 };
  const open = new Map<string, { startsAt: number; keyDirs: string[]; checksums: string[]; created: string[]; isDeclared: boolean }>();
  let at = 0;
  let wholeLines = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', at)) {
    const line = parseLine(text.slice(at, end));
    if (line === null) plan.isPrecise = false;
    else if ('s' in line) for (const checksum of line.s) plan.checksums.add(checksum);
    else if ('b' in line) {
      // The lock is exclusive: a session begun while another is open means that one's writer died.
      if (open.size > 0) plan.isPrecise = false;
      open.clear();
      open.set(line.b, { startsAt: at, keyDirs: [], checksums: [], created: [], isDeclared: false });
    } else if ('t' in line) {
      const session = open.get(line.t);
      if (session === undefined) plan.isPrecise = false;
      else {
        session.isDeclared = true;
        session.keyDirs.push(...line.k);
        session.checksums.push(...line.o);
        session.created.push(...(line.n ?? []));
      }
    } else {
      const session = open.get(line.e);
      open.delete(line.e);
      if (session === undefined || !session.isDeclared) plan.isPrecise = false;
      else {
        for (const name of session.keyDirs) plan.keyDirs.add(name);
        for (const checksum of session.checksums) plan.checksums.add(checksum);
        for (const checksum of session.created) plan.created.add(checksum);
        if (line.m === undefined) plan.commitIds = null;
        else for (const id of line.m) plan.commitIds?.add(id);
        plan.commitsMtimeMs = line.c;
        plan.keyRefsMtimeMs = line.r;
        for (const [fanout, mtimeMs] of Object.entries(line.f)) plan.fanoutMtimes.set(fanout, mtimeMs);
      }
    }
    at = end + 1;
    wholeLines = at;
  }
  // An unfinished session may still change anything it names, or anything at all: check everything, and read it again next time.
  const unfinished = [...open.values()][0];
  if (unfinished !== undefined) plan.isPrecise = false;
  plan.consumed = unfinished?.startsAt ?? wholeLines;
  // A fanout's mtime after a later session says nothing of what an imprecise one removed before it: all changed ones are listed.
  if (!plan.isPrecise) plan.fanoutMtimes.clear();
  return plan;
}

function parseLine(text: string): BeginLine | DeclareLine | EndLine | LeftObjectsLine | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const line = value as Record<string, unknown>;
  if (typeof line.b === 'string') return line as unknown as BeginLine;
  if (isChecksums(line.s)) return line as unknown as LeftObjectsLine;
  if (typeof line.t === 'string' && isStrings(line.k) && isChecksums(line.o) && (line.n === undefined || isChecksums(line.n))) return line as unknown as DeclareLine;
  const f = line.f;
  if (
    typeof line.e === 'string' &&
    Number.isFinite(line.c) &&
    Number.isFinite(line.r) &&
    typeof f === 'object' &&
    f !== null &&
    Object.entries(f).every(([k, v]) => /^[0-9a-f]{2}$/.test(k) && Number.isFinite(v)) &&
    (line.m === undefined || (isStrings(line.m) && line.m.every(isCommitId)))
  ) {
    return line as unknown as EndLine;
  }
  return null;
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isChecksums(value: unknown): value is string[] {
  return isStrings(value) && value.every((c) => HEX64.test(c));
}
