/**
 * The checks fsck runs, one per kind of file. They read without the write
 * lock, so each "missing" finding is re-checked before it is reported: a
 * commit or object that appeared after its directory was listed (a
 * concurrent save) is fine, and a ref that vanished (a concurrent GC) is
 * no longer a problem.
 */
import { basename, dirname, join } from 'node:path';
import { isRefFileNameOf, keyDirName, legacyRefFileName, parseFullKey } from '../model/keys.js';
import { isCommitId, type CommitOperation } from '../model/records.js';
import { operationsByFullKey, parseCommitRecord } from '../store/commits.js';
import type { PendingCommits } from '../store/staging.js';
import { readdirFast, readFileFast } from '../store/bulk-io.js';
import { pathExists, readdirIfExists, readFileIfExists } from '../store/fs.js';
import { forEachLimit, WALK_CONCURRENCY } from '../store/map-limit.js';
import { objectProblem, type ObjectVerification } from '../store/object-verify.js';
import { listKeyDirPaths, scanKeyDir, type ScannedRef } from '../store/ref-scan.js';
import { parseTagRecord, TagStore } from '../store/tags.js';
import type { StoreContext } from './context.js';
import { problem, type FsckProblem, type FsckResult } from './fsck-report.js';
import { FORMAT_MARKER } from './open-store.js';

/** What the checks learn about the store, shared between them. */
export interface FsckScan {
  readonly ctx: StoreContext;
  readonly problems: FsckProblem[];
  readonly commitIds: Set<string>;
  /** Objects whose content matches their name. */
  readonly validObjects: Set<string>;
  /** Objects that exist but fail verification. */
  readonly badObjects: Set<string>;
  /** Objects some ref, tag or open transaction names. */
  readonly marked: Set<string>;
  /** Objects named by published refs, checked once every object is verified. */
  readonly refObjects: Array<{ path: string; key: string; checksum: string }>;
  /** The operations of every valid commit, by commit id, then full key. */
  readonly operations: Map<string, ReadonlyMap<string, CommitOperation>>;
  /** Where each version a valid commit lists has its ref, for `--repair` to rebuild damaged ones. */
  readonly refsByPath: Map<string, { commit: string; time: string; op: CommitOperation }>;
  /** Commits being published or abandoned by dead writers (their refs are not yet, or never, published). */
  pending: PendingCommits;
  readonly checked: FsckResult['checked'];
}

export function newScan(ctx: StoreContext): FsckScan {
  return {
    ctx,
    problems: [],
    commitIds: new Set(),
    validObjects: new Set(),
    badObjects: new Set(),
    marked: new Set(),
    refObjects: [],
    operations: new Map(),
    refsByPath: new Map(),
    pending: { live: new Set(), abandoned: new Set(), abandonedRecords: new Map() },
    checked: { objects: 0, refs: 0, commits: 0, tags: 0 },
  };
}

export async function checkFormatMarker(scan: FsckScan): Promise<void> {
  const path = scan.ctx.layout.formatFile;
  const marker = await readFileIfExists(scan.ctx.fs, path);
  if (marker?.toString('utf8') !== FORMAT_MARKER) {
    scan.problems.push(problem('bad-format-marker', path, marker === null ? 'the FORMAT marker is missing' : 'the FORMAT marker is not this format'));
  }
}

/** Every commit parses, matches its id, and names a parent that exists. */
export async function checkCommits(scan: FsckScan): Promise<void> {
  const { ctx } = scan;
  for (const name of await readdirFast(ctx.fs, ctx.layout.commits)) {
    const id = name.endsWith('.json') ? name.slice(0, -5) : '';
    if (isCommitId(id)) scan.commitIds.add(id);
    else scan.problems.push(problem('stray-file', join(ctx.layout.commits, name), 'is not named like a commit'));
  }
  const parents: Array<{ id: string; parent: string }> = [];
  await forEachLimit(scan.commitIds, WALK_CONCURRENCY, async (id) => {
    const path = ctx.commits.pathOf(id);
    const bytes = await readFileFast(ctx.fs, path);
    if (bytes === null) return;
    scan.checked.commits++;
    try {
      const record = parseCommitRecord(bytes, id, path);
      if (record.parent !== null) parents.push({ id, parent: record.parent });
      scan.operations.set(id, operationsByFullKey(record));
      for (const op of record.operations) {
        const parsed = parseFullKey(op.fullKey);
        if (parsed === null) continue;
        const listing = { commit: id, time: record.time, op };
        // Its ref is at the name this commit gives it, or at the name stores before commit suffixes gave it.
        const refPath = ctx.refs.pathOf({ logicalKey: op.logicalKey, timestamp: parsed.timestamp, commit: id });
        scan.refsByPath.set(refPath, listing);
        scan.refsByPath.set(join(dirname(refPath), legacyRefFileName(parsed.timestamp)), listing);
      }
    } catch (error) {
      scan.problems.push(problem('invalid-commit', path, (error as Error).message));
    }
  });
  for (const { id, parent } of parents) {
    if (!(await isCommitPresent(scan, parent))) {
      scan.problems.push(problem('missing-parent', ctx.commits.pathOf(id), `names parent ${parent}, which does not exist`));
    }
  }
}

/**
 * Records the outcome of verifying every object file (`verifyAllObjects`,
 * run beside the other checks).
 */
export function applyObjectVerification(scan: FsckScan, verification: ObjectVerification): void {
  for (const checksum of verification.valid) scan.validObjects.add(checksum);
  scan.checked.objects += verification.valid.length;
  for (const found of verification.problems) {
    if (found.checksum !== undefined) {
      scan.badObjects.add(found.checksum);
      scan.checked.objects++;
    }
    scan.problems.push(problem(found.code, found.path, found.message, found.checksum === undefined ? {} : { checksum: found.checksum }));
  }
}

/** Every version record parses, sits where its key and timestamp say, is published, and names a valid object. */
export async function checkRefs(scan: FsckScan): Promise<void> {
  const { ctx } = scan;
  await forEachLimit(await listKeyDirPaths(ctx.fs, ctx.layout), WALK_CONCURRENCY / 4, async (dir) => {
    const keyDir = await scanKeyDir(ctx.fs, dir);
    for (const path of keyDir.stray) scan.problems.push(problem('stray-file', path, 'is not named like a version record'));
    for (const { path, message } of keyDir.invalid) scan.problems.push(problem('invalid-ref', path, message));
    for (const ref of keyDir.refs) await checkRef(scan, ref);
  });
}

async function checkRef(scan: FsckScan, ref: ScannedRef): Promise<void> {
  const { ctx } = scan;
  const { record, path } = ref;
  const key = record.fullKey;
  scan.checked.refs++;
  scan.marked.add(record.checksum);
  if (basename(dirname(path)) !== keyDirName(record.logicalKey) || !isRefFileNameOf(ref.name, record.timestamp, record.commit)) {
    scan.problems.push(problem('misplaced-ref', path, `holds ${JSON.stringify(key)}, which belongs in ${ctx.refs.pathOf(record)}`, { key }));
    return;
  }
  if (!(await isCommitPresent(scan, record.commit))) {
    if (scan.pending.live.has(record.commit)) return; // A commit in progress.
    if (scan.pending.abandoned.has(record.commit)) {
      scan.problems.push(problem('unpublished-ref', path, `names commit ${record.commit}, which its writer died before publishing (debris)`, { key }));
    } else {
      scan.problems.push(problem('missing-commit', path, `names commit ${record.commit}, whose file is missing: the version cannot be read`, { key }));
    }
    return;
  }
  const listed = scan.operations.get(record.commit)?.get(record.fullKey);
  // A commit that exists but is damaged is reported as invalid-commit; its refs cannot be cross-checked.
  if (scan.operations.has(record.commit) && (listed === undefined || listed.logicalKey !== record.logicalKey || record.version < listed.version || listed.checksum !== record.checksum)) {
    const says = listed === undefined ? 'does not list it' : `lists version ${listed.version} with checksum ${listed.checksum}`;
    scan.problems.push(problem('ref-mismatch', path, `disagrees with commit ${record.commit}, which ${says}`, { key }));
    return;
  }
  scan.refObjects.push({ path, key, checksum: record.checksum });
}

/** Every published ref names a valid object; run once the objects are verified. */
export async function checkRefObjects(scan: FsckScan): Promise<void> {
  for (const { path, key, checksum } of scan.refObjects) {
    const objectPath = scan.ctx.objects.pathOf(checksum);
    if (scan.badObjects.has(checksum)) {
      scan.problems.push(problem('ref-to-corrupt-object', path, `names object ${checksum}, which is corrupt (${objectPath})`, { key, checksum }));
    } else if (!(await isObjectValid(scan, checksum)) && (await pathExists(scan.ctx.fs, path))) {
      scan.problems.push(problem('missing-object', path, `names object ${checksum}, which is missing (${objectPath})`, { key, checksum }));
    }
  }
}

/**
 * Listed by the commit scan, or published since. Asks the disk, not the
 * commit log's cache, which would still vouch for a commit file deleted
 * behind this process's back.
 */
async function isCommitPresent(scan: FsckScan, id: string): Promise<boolean> {
  return scan.commitIds.has(id) || (await pathExists(scan.ctx.fs, scan.ctx.commits.pathOf(id)));
}

/** Valid per the object scan, or written and valid since. */
async function isObjectValid(scan: FsckScan, checksum: string): Promise<boolean> {
  if (scan.validObjects.has(checksum)) return true;
  const found = await scan.ctx.objects.readStored(checksum);
  if (found === null || objectProblem(found.stored, checksum) !== null) return false;
  scan.validObjects.add(checksum);
  return true;
}

/** Every snapshot tag parses and names a valid tree whose entries' objects exist. */
export async function checkTags(scan: FsckScan): Promise<void> {
  const { ctx } = scan;
  const tags = new TagStore(ctx.fs, ctx.layout, ctx.objects);
  for (const name of (await readdirIfExists(ctx.fs, ctx.layout.tags)).sort()) {
    const path = join(ctx.layout.tags, name);
    if (!name.endsWith('.json')) {
      scan.problems.push(problem('stray-file', path, 'is not named like a tag'));
      continue;
    }
    const bytes = await readFileIfExists(ctx.fs, path);
    if (bytes === null) continue;
    scan.checked.tags++;
    let tag;
    try {
      tag = parseTagRecord(bytes, path);
    } catch (error) {
      scan.problems.push(problem('invalid-tag', path, (error as Error).message));
      continue;
    }
    scan.marked.add(tag.tree);
    if (!(await isObjectValid(scan, tag.tree))) {
      const code = scan.badObjects.has(tag.tree) ? 'invalid-tree' : 'missing-tree';
      scan.problems.push(problem(code, path, `names tree object ${tag.tree}, which is ${code === 'invalid-tree' ? 'corrupt' : 'missing'}`, { checksum: tag.tree }));
      continue;
    }
    let entries;
    try {
      entries = (await tags.readTree(tag)).entries;
    } catch (error) {
      scan.problems.push(problem('invalid-tree', path, (error as Error).message, { checksum: tag.tree }));
      continue;
    }
    for (const entry of entries) {
      scan.marked.add(entry.checksum);
      if (!(await isObjectValid(scan, entry.checksum))) {
        scan.problems.push(problem('missing-object', path, `entry ${entry.fullKey} names object ${entry.checksum}, which is missing or corrupt`, { key: entry.fullKey, checksum: entry.checksum }));
      }
    }
  }
}
