/**
 * Garbage collection of packs, run under the write lock after the loose
 * objects' sweep (retention.ts). A pack none of whose objects is marked is
 * removed once its file is past the grace period (writers that reuse a
 * packed object refresh the pack's mtime); a pack mostly garbage is
 * repacked: its live objects are copied into a new pack, fsynced and
 * published, and only then is the old one removed, index first. A pack
 * without an index (a writer killed between the two renames) is debris.
 * Past `MAX_PACKS` packs, the ones kept are combined into one.
 * Damaged packs are left alone: fsck reports them and its repair moves them.
 */
import { join } from 'node:path';
import { PACK_NAME } from '../model/pack-index.js';
import { isPastGrace } from '../model/retention.js';
import { syncDirs } from '../store/atomic-write.js';
import { statFast, unlinkIfExists } from '../store/bulk-io.js';
import { readdirIfExists } from '../store/fs.js';
import { decodeObject } from '../store/objects.js';
import { PackWriter } from '../store/pack-writer.js';
import { packDirOf, packPathOf, readPackedBytes, readPackIndex } from '../store/packs.js';
import type { PackEntry } from '../model/pack-index.js';
import type { StoreContext } from './context.js';

export interface PackSweep {
  removedObjects: number;
  freedBytes: number;
}

/** Repacks when at most this share of a pack's objects is still named. */
export const REPACK_LIVE_SHARE = 0.5;
/**
 * Past this many packs, GC combines the live objects of all that it keeps
 * into one pack: a store of many small transactions would otherwise make
 * every listing of `objects/pack/` (each new object's lookup) grow without end.
 */
export const MAX_PACKS = 32;

/** What to do with one pack: pure. */
export function packDecision(entries: readonly PackEntry[], marked: ReadonlySet<string>): { action: 'keep' | 'remove' | 'repack'; live: PackEntry[] } {
  const live = entries.filter((entry) => marked.has(entry.checksum));
  if (live.length === entries.length) return { action: 'keep', live };
  if (live.length === 0) return { action: 'remove', live };
  return { action: live.length <= entries.length * REPACK_LIVE_SHARE ? 'repack' : 'keep', live };
}

export async function sweepPacks(ctx: StoreContext, marked: ReadonlySet<string>, graceSeconds: number): Promise<PackSweep> {
  const sweep: PackSweep = { removedObjects: 0, freedBytes: 0 };
  const dir = packDirOf(ctx.layout);
  const names = await readdirIfExists(ctx.fs, dir);
  if (names.length === 0) return sweep;
  const wallMs = Date.now();
  const indexed = new Set(names.filter((name) => name.endsWith('.idx')).map((name) => PACK_NAME.exec(name)?.[1]).filter((h): h is string => h !== undefined));
  let touched = false;
  const kept: Array<{ packHash: string; live: PackEntry[]; garbage: number; garbageBytes: number }> = [];
  for (const name of names) {
    const match = PACK_NAME.exec(name);
    if (match === null || match[2] !== 'pack') continue;
    const packHash = match[1]!;
    const stat = await statFast(ctx.fs, join(dir, name));
    if (stat === null || !isPastGrace(stat.mtimeMs, wallMs, graceSeconds)) continue;
    if (!indexed.has(packHash)) {
      if (await unlinkIfExists(ctx.fs, join(dir, name))) (sweep.freedBytes += stat.size), (touched = true);
      continue;
    }
    // An index that cannot be read or trusted is left to fsck, as a damaged pack is.
    const entries = await readPackIndex(ctx.fs, ctx.layout, packHash).catch(() => null);
    if (entries === null || typeof entries === 'string') continue;
    const { action, live } = packDecision(entries, marked);
    if (action === 'keep') {
      const garbageBytes = stat.size - live.reduce((sum, entry) => sum + entry.length, 0);
      kept.push({ packHash, live, garbage: entries.length - live.length, garbageBytes });
      continue;
    }
    if (action === 'repack') await copyIntoNewPack(ctx, [{ packHash, live }]);
    await removePack(ctx, packHash);
    sweep.removedObjects += entries.length - live.length;
    sweep.freedBytes += stat.size - live.reduce((sum, entry) => sum + entry.length, 0);
    touched = true;
  }
  if (kept.length > MAX_PACKS) {
    await copyIntoNewPack(ctx, kept);
    for (const { packHash, garbage, garbageBytes } of kept) {
      await removePack(ctx, packHash);
      sweep.removedObjects += garbage;
      sweep.freedBytes += garbageBytes;
    }
    touched = true;
  }
  if (touched) await syncDirs(ctx.fs, [dir]);
  if (touched) await ctx.objects.packs.refresh();
  return sweep;
}

/** The live objects of packs, verified, into one new pack made durable before the old ones go. */
async function copyIntoNewPack(ctx: StoreContext, packs: ReadonlyArray<{ packHash: string; live: readonly PackEntry[] }>): Promise<void> {
  const writer = new PackWriter(ctx.fs, ctx.layout, ctx.objects);
  try {
    for (const { packHash, live } of packs) {
      const pack = packPathOf(ctx.layout, packHash, 'pack');
      for (const entry of live) {
        const stored = await readPackedBytes(ctx.fs, { ...entry, pack });
        // A damaged object stops the repack (the error names the pack): fsck --repair deals with it.
        if (stored !== null) decodeObject(stored, entry.checksum, pack);
        if (stored !== null) await writer.copyStored(entry.checksum, stored);
      }
    }
    await writer.publishDurably();
  } finally {
    await writer.discard();
  }
}

/** Index first, so no reader finds an index whose pack is gone. */
async function removePack(ctx: StoreContext, packHash: string): Promise<void> {
  await unlinkIfExists(ctx.fs, packPathOf(ctx.layout, packHash, 'idx'));
  await unlinkIfExists(ctx.fs, packPathOf(ctx.layout, packHash, 'pack'));
}
