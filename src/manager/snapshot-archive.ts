/**
 * Snapshots as tar archives: export a snapshot's tag and tree as a
 * deterministic tar, and import such a tar into any store, restoring the
 * versions (see src/manager/import-versions.ts for the rule) and the tag.
 */
import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { writeFileStreamAtomic, writeSnapshotTar, type ProgressListener } from '../archive/export-tar.js';
import { readSnapshotTar } from '../archive/import-tar.js';
import { CommitNotDurableError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { SnapshotManifest } from '../archive/manifest.js';
import { makeFullKey } from '../model/keys.js';
import type { SnapshotTree, SnapshotTreeEntry } from '../model/snapshot.js';
import type { StagedVersion } from '../store/publish.js';
import { isErrno } from '../store/fs.js';
import { PackWriter } from '../store/pack-writer.js';
import type { SnapshotMetadata } from '../model/types.js';
import type { StoreContext } from './context.js';
import { publishImportedLocked, removeCreatedObjects, sortForImport } from './import-versions.js';
import { compareStrings } from './key-catalog.js';
import { readSnapshot, snapshotMetadata, tagStoreOf, treeEntryOf, writeTreeAndTag } from './snapshots.js';

export interface SnapshotExport {
  snapshotId: string;
  entryCount: number;
  /** Bytes of the tar. */
  bytes: number;
}

export interface SnapshotImport {
  snapshot: SnapshotMetadata;
  /** Versions newly published by the import. */
  published: number;
  /** Versions the store had already (same full key and checksum). */
  present: number;
  /** Versions not published because their key has a newer one; the snapshot still names them. */
  older: number;
  /** `present + older`. */
  skipped: number;
}

/** Writes the tar of a snapshot to a file (atomically) or a stream. Throws `NotFoundError` for an unknown snapshot. */
export async function exportSnapshot(
  ctx: StoreContext,
  snapshotId: string,
  target: string | Writable,
  onProgress?: ProgressListener,
): Promise<SnapshotExport> {
  const found = await readSnapshot(ctx, snapshotId);
  if (found === null) throw new NotFoundError(`snapshot ${JSON.stringify(snapshotId)}`, { snapshotId });
  const write = (out: Writable) => writeSnapshotTar(ctx.objects, found.tree, found.tag.tree, out, onProgress);
  const result = typeof target === 'string' ? await writeFileStreamAtomic(target, write, ctx.fs) : await write(target);
  const exported = { snapshotId, entryCount: result.entryCount, bytes: result.bytes };
  ctx.events.emit('snapshotExported', exported);
  return exported;
}

/**
 * Imports a snapshot tar from a file or a stream; refuses anything outside the
 * format with `UnsafeArchiveError`. The whole import holds the write lock, as
 * a JSON import does: objects it writes cannot be named by another commit
 * before it publishes, so when it fails it removes the ones it created and
 * leaves the store as it was.
 */
export async function importSnapshot(ctx: StoreContext, source: string | Readable, onProgress?: ProgressListener): Promise<SnapshotImport> {
  const stream = typeof source === 'string' ? await openArchive(source) : source;
  const created = new Set<string>();
  const imported = await ctx.withWriteLock(async () => {
    // The archive's new objects go into one pack, published with the commit.
    const pack = new PackWriter(ctx.fs, ctx.layout, ctx.objects);
    try {
      // Holding the lock also keeps garbage collection away from the objects until the commit names them.
      const { manifest, staged } = await readSnapshotTar({ objects: pack, options: ctx.options, onProgress, created }, stream);
      return await publishSnapshotLocked(ctx, manifest, staged, pack);
    } catch (error) {
      if (!(error instanceof CommitNotDurableError)) await pack.withdraw();
      await removeCreatedObjects(ctx, created);
      throw error;
    } finally {
      await pack.discard();
    }
  });
  ctx.events.emit('snapshotImported', { snapshotId: imported.snapshot.snapshotId, metadata: imported.snapshot, published: imported.published, skipped: imported.skipped });
  return imported;
}

async function publishSnapshotLocked(ctx: StoreContext, manifest: SnapshotManifest, staged: StagedVersion[], pack: PackWriter): Promise<SnapshotImport> {
  const tags = tagStoreOf(ctx);
  const existing = await tags.read(manifest.snapshotId);
  if (existing !== null) {
    const tree = await tags.readTree(existing);
    if (!sameVersions(tree, manifest.entries)) {
      throw new InvalidArgumentError(`snapshot ${manifest.snapshotId} already exists in this store with other versions`, { snapshotId: manifest.snapshotId });
    }
    return { snapshot: snapshotMetadata(tree, existing, ctx.options), published: 0, present: staged.length, older: 0, skipped: staged.length };
  }
  const result = await publishImportedLocked(ctx, sortForImport([...staged]), `import ${manifest.snapshotId}`, pack);
  // The tree names the objects of versions skipped as older too: with no
  // commit to publish the pack, it is published (durably) before the tree.
  await pack.publishDurably();
  // Versions skipped as older than their key's newest stay named by the
  // snapshot as the archive has them: their objects were written, and the tree keeps them.
  const entries = [...result.records.map((record) => treeEntryOf(record, record.version)), ...result.olderVersions.map(treeEntryOfArchived)].sort((a, b) =>
    compareStrings(a.fullKey, b.fullKey),
  );
  const tree: SnapshotTree = { format: 1, type: 'tree', snapshotId: manifest.snapshotId, phase: manifest.phase, entities: manifest.entities, timestamp: manifest.timestamp, entries };
  const tag = await writeTreeAndTag(ctx, tags, tree, new Date(ctx.clock()).toISOString());
  return { snapshot: snapshotMetadata(tree, tag, ctx.options), published: result.published, present: result.present, older: result.older, skipped: result.skipped };
}

function treeEntryOfArchived(staged: StagedVersion): SnapshotTreeEntry {
  return treeEntryOf({ ...staged, fullKey: makeFullKey(staged.logicalKey, staged.timestamp) }, staged.version!);
}

async function openArchive(path: string): Promise<Readable> {
  try {
    return (await open(path, 'r')).createReadStream();
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw new NotFoundError(`archive ${path}`, { path });
    throw error;
  }
}

/** Whether a stored tree names the same data for the same logical keys as an archive's entries. */
function sameVersions(tree: SnapshotTree, entries: ReadonlyArray<{ logicalKey: string; checksum: string }>): boolean {
  const key = (e: { logicalKey: string; checksum: string }) => `${e.logicalKey}\u0000${e.checksum}`;
  const stored = new Set(tree.entries.map(key));
  return tree.entries.length === entries.length && entries.every((e) => stored.has(key(e)));
}
