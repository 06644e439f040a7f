/**
 * `fsck`: checks every file of the store (objects, version records, commits,
 * tags, the format marker) and reports each problem with its path. With
 * `repair`, damaged files are moved aside to `local/corrupt/` (never
 * deleted) and debris of interrupted commits is removed, so that every
 * remaining version reads back intact; a damaged ref is then rebuilt from
 * the commit that lists it, links and special files are removed (never what
 * they point to), and commits are only reported, because moving one aside
 * would hide the intact versions it published.
 */
import { basename, dirname, join } from 'node:path';
import { DEFAULT_GRACE_SECONDS, isPastGrace } from '../model/retention.js';
import { syncDirs } from '../store/atomic-write.js';
import { isErrno } from '../store/fs.js';
import { readPendingCommits, readStagingPins } from '../store/staging.js';
import { openStore } from './open-store.js';
import { saveFsckRecord } from './maintenance-records.js';
import { checkUnsafeEntries, removeUnsafeEntries, restoreRefsFromCommits } from './fsck-integrity.js';
import type { StoreContext } from './context.js';
import { verifyAllObjectsInBackground } from '../store/object-verify.js';
import { salvagePack } from '../store/pack-verify.js';
import {
  applyObjectVerification,
  checkCommits,
  checkFormatMarker,
  checkRefObjects,
  checkRefs,
  checkTags,
  newScan,
  type FsckScan,
} from './fsck-checks.js';
import { problem, summarise, type FsckProblem, type FsckResult } from './fsck-report.js';

export interface FsckOptions {
  /** Move damaged files aside and remove debris. Default false. */
  repair?: boolean;
}

/** Checks the whole store; with `repair`, under the write lock, fixes what can be fixed without losing intact data. */
export async function runFsck(ctx: StoreContext, options: FsckOptions = {}): Promise<FsckResult> {
  const started = Date.now();
  const check = async (): Promise<FsckScan> => {
    const scan = newScan(ctx);
    // Objects are verified beside the commit and ref checks; settled at once so a failure is never unhandled.
    const verifying = verifyAllObjectsInBackground(ctx.fs, ctx.layout).then(
      (verification) => ({ verification }),
      (error: unknown) => ({ error }),
    );
    await checkFormatMarker(scan);
    scan.pending = await readPendingCommits(ctx.fs, ctx.layout);
    await checkCommits(scan);
    await checkRefs(scan);
    const objects = await verifying;
    if ('error' in objects) throw objects.error;
    applyObjectVerification(scan, objects.verification);
    await checkRefObjects(scan);
    await checkTags(scan);
    await reportUnreachable(scan);
    if (options.repair === true) {
      await repair(scan);
      // The ref checks and the refs' copies (local/checked/) are a cache bound to stat identities, which a ref rewritten
      // in place by another program keeps: after a repair every read takes the files, as this scan did.
      await ctx.fs.rm(ctx.layout.refChecks, { recursive: true, force: true });
    }
    return scan;
  };
  // Links and special files first: the other checks (and the lock itself,
  // under local/) refuse to pass through them. Repair removes them (never
  // their targets) and recreates what they stood in for, before the lock.
  const unsafe = newScan(ctx);
  await checkUnsafeEntries(unsafe);
  if (unsafe.problems.length > 0 && options.repair === true) {
    await removeUnsafeEntries(unsafe);
    await openStore(ctx.fs, ctx.layout).catch(() => undefined); // What still fails is reported below.
  }
  const checkAll = async (): Promise<FsckScan> => {
    let scan: FsckScan;
    try {
      scan = await check();
    } catch (error) {
      // With links present the other checks may stop at one (the object
      // worker reports it as a plain error): the report names the links.
      if (unsafe.problems.length === 0) throw error;
      scan = newScan(ctx);
    }
    scan.problems.push(...unsafe.problems);
    return scan;
  };
  const report = async (): Promise<FsckResult> => {
    const scan = await checkAll();
    const summary = summarise(scan.problems.sort(byPath), scan.checked, Date.now() - started);
    // The one file even a read-only fsck writes (local/, never committed); it never fails the check.
    // A repair writes it before the lock goes, so a watcher that sees the release reads it.
    await saveFsckRecord(ctx, summary, options.repair === true);
    return summary;
  };
  const result = options.repair === true ? await ctx.withWriteLock(report) : await report();
  ctx.events.emit('fsckCompleted', { ok: result.ok, errors: result.errors, warnings: result.warnings, repaired: result.repaired });
  return result;
}

/** Valid objects nothing names, past the grace period: what the next GC will remove. */
async function reportUnreachable(scan: FsckScan): Promise<void> {
  const { ctx } = scan;
  for (const checksum of (await readStagingPins(ctx.fs, ctx.layout)).checksums) scan.marked.add(checksum);
  const wallMs = Date.now();
  for (const checksum of scan.validObjects) {
    if (scan.marked.has(checksum)) continue;
    const found = await ctx.objects.locate(checksum);
    if (found !== null && isPastGrace(found.mtimeMs, wallMs, DEFAULT_GRACE_SECONDS)) {
      const path = found.packed ? `${found.path} (object ${checksum})` : found.path;
      scan.problems.push(problem('unreachable-object', path, 'is named by no version, snapshot or open transaction (gc removes it)', { checksum }));
    }
  }
}

const MOVE_ASIDE = new Set<FsckProblem['code']>([
  'corrupt-object',
  'invalid-gzip',
  'invalid-ref',
  'misplaced-ref',
  'ref-mismatch',
  'missing-commit',
  'missing-object',
  'ref-to-corrupt-object',
  'invalid-tag',
  'missing-tree',
  'invalid-tree',
]);

/**
 * Moves damaged files to `local/corrupt/<kind>/` and removes unpublished
 * refs. A file is only moved when it is still the one that was checked
 * (the rename is the whole action), so repair never loses intact data.
 */
async function repair(scan: FsckScan): Promise<void> {
  const { ctx } = scan;
  const touched = new Set<string>();
  const moved = new Set<string>();
  for (const found of scan.problems) {
    if (found.code === 'damaged-pack') {
      if (!moved.has(found.path)) {
        moved.add(found.path);
        // The objects that still verify are kept, as loose objects; then the
        // index goes before its pack, so no reader finds one without the other.
        await salvagePack(ctx.fs, ctx.layout, ctx.objects, found.path);
        await moveAside(scan, found.path.replace(/\.pack$/, '.idx'));
        await moveAside(scan, found.path);
        touched.add(dirname(found.path));
      }
      found.repaired = 'moved-aside';
    } else if (found.code === 'unpublished-ref') {
      if (await removeFile(scan, found.path)) found.repaired = 'removed';
      touched.add(dirname(found.path));
    } else if (MOVE_ASIDE.has(found.code) && !moved.has(found.path)) {
      if (await moveAside(scan, found.path)) found.repaired = 'moved-aside';
      moved.add(found.path);
      touched.add(dirname(found.path));
    } else if (MOVE_ASIDE.has(found.code)) {
      found.repaired = 'moved-aside';
    }
    if (found.repaired !== undefined && found.path.startsWith(ctx.layout.keyRefs)) ctx.index.forget(found.path);
  }
  await syncDirs(ctx.fs, touched);
  await restoreRefsFromCommits(scan, new Set([...moved].filter((path) => path.startsWith(ctx.layout.keyRefs))));
  await syncDirs(ctx.fs, touched);
}

async function moveAside(scan: FsckScan, path: string): Promise<boolean> {
  const { layout } = scan.ctx;
  const kind = path.startsWith(layout.objects) ? 'objects' : path.startsWith(layout.tags) ? 'tags' : 'refs';
  const target = join(layout.local, 'corrupt', kind, `${basename(dirname(path))}-${basename(path)}.${Date.now()}`);
  await scan.ctx.fs.mkdir(dirname(target), { recursive: true });
  try {
    await scan.ctx.fs.rename(path, target);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

async function removeFile(scan: FsckScan, path: string): Promise<boolean> {
  try {
    await scan.ctx.fs.unlink(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

function byPath(a: FsckProblem, b: FsckProblem): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
