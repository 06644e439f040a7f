/**
 * The fsck checks that treat the store as untrusted input: links and special
 * files anywhere under the store directory (a clone can bring them), and
 * restoring refs from the commits that list them when `--repair` moved a
 * damaged ref aside.
 */
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isAeStateError } from '../errors.js';
import { parseFullKey } from '../model/keys.js';
import { FORMAT_VERSION, type CommitOperation, type VersionRecord } from '../model/records.js';
import { isGzip } from '../store/objects.js';
import type { StoreFs } from '../store/fs.js';
import type { StoreContext } from './context.js';
import type { FsckScan } from './fsck-checks.js';
import { problem } from './fsck-report.js';

/** Source given to refs that fsck --repair rebuilt from their commit (their other metadata is lost). */
export const RESTORED_SOURCE = 'fsck-restored';

/** Every symbolic link, device, pipe or socket under the store directory, found without following any. */
export async function checkUnsafeEntries(scan: FsckScan): Promise<void> {
  const { ctx } = scan;
  const root = await ctx.fs.lstat(ctx.layout.store).catch(() => null);
  if (root === null) return;
  if (!root.isDirectory()) {
    scan.problems.push(problem('unsafe-entry', ctx.layout.store, 'the store directory is not a real directory (a link?)'));
    return;
  }
  const pending = [ctx.layout.store];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const entry of await listEntries(ctx.fs, dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (!entry.isFile()) scan.problems.push(problem('unsafe-entry', path, `is ${describeEntry(entry)}; the store never follows or opens it`));
    }
  }
}

async function listEntries(fs: StoreFs, dir: string): Promise<Dirent[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true })) as Dirent[];
  } catch (error) {
    if (isAeStateError(error)) return []; // An unsafe directory, reported by its parent's listing.
    throw error;
  }
}

function describeEntry(entry: Dirent): string {
  if (entry.isSymbolicLink()) return 'a symbolic link';
  if (entry.isFIFO()) return 'a named pipe';
  if (entry.isSocket()) return 'a socket';
  return 'a device file';
}

/** Removes the links and special files found: the entries themselves, never what a link points to. */
export async function removeUnsafeEntries(scan: FsckScan): Promise<void> {
  for (const found of scan.problems) {
    if (found.code !== 'unsafe-entry' || found.path === scan.ctx.layout.store) continue;
    await scan.ctx.fs.unlink(found.path).then(
      () => (found.repaired = 'removed'),
      () => undefined,
    );
  }
}

/**
 * Rebuilds the ref of each damaged record that repair moved aside, from the
 * commit that lists it: key, version and checksum come from the commit,
 * compression and size from the verified object. Tags, phase, ttl and
 * source are not in the commit and are lost (source says `fsck-restored`).
 * A version whose object is not intact cannot be restored and stays an error.
 */
export async function restoreRefsFromCommits(scan: FsckScan, movedRefs: ReadonlySet<string>): Promise<void> {
  for (const found of scan.problems) {
    if (!movedRefs.has(found.path) || found.repaired !== 'moved-aside') continue;
    const listed = scan.refsByPath.get(found.path);
    if (listed === undefined) {
      found.message += '; no commit lists a version here, so nothing was restored';
      continue;
    }
    const record = await rebuildRecord(scan.ctx, listed, scan.validObjects.has(listed.op.checksum));
    if (record === null) {
      found.message += `; its object ${listed.op.checksum} is not intact, so version ${listed.op.version} cannot be restored`;
      continue;
    }
    await scan.ctx.refs.write(record);
    scan.ctx.index.forget(found.path);
    found.repaired = 'restored';
    found.message += `; restored from commit ${listed.commit} (tags, phase, ttl and source were lost)`;
  }
}

async function rebuildRecord(
  ctx: StoreContext,
  listed: { commit: string; time: string; op: CommitOperation },
  isObjectIntact: boolean,
): Promise<VersionRecord | null> {
  const parsed = parseFullKey(listed.op.fullKey);
  if (parsed === null || !isObjectIntact) return null;
  const found = await ctx.objects.readStored(listed.op.checksum);
  if (found === null) return null;
  const { stored } = found;
  const compressed = isGzip(stored);
  const size = compressed ? gunzipSync(stored).length : stored.length;
  return {
    format: FORMAT_VERSION,
    fullKey: listed.op.fullKey,
    logicalKey: listed.op.logicalKey,
    timestamp: parsed.timestamp,
    version: listed.op.version,
    checksum: listed.op.checksum,
    compressed,
    size,
    tags: {},
    source: RESTORED_SOURCE,
    created: listed.time,
    commit: listed.commit,
  };
}
