/**
 * Snapshots as tagged trees, as in git: `createSnapshot` writes a tree object
 * listing the selected versions (see src/model/snapshot-selection.ts) and a
 * tag naming it; loading reads the data objects the tree names, so a
 * snapshot stays loadable after retention removed the versions' refs
 * (garbage collection keeps every object a live tag reaches).
 */
import { IntegrityError } from '../errors.js';
import { deserialize, serialize } from '../model/codec.js';
import type { ResolvedOptions } from '../model/options.js';
import type { VersionRecord } from '../model/records.js';
import { assertSnapshotPhase, isSnapshotId, makeSnapshotId, type SnapshotTree, type SnapshotTreeEntry, type TagRecord } from '../model/snapshot.js';
import { isSelectedForSnapshot, normalizeEntities } from '../model/snapshot-selection.js';
import type { SnapshotMetadata, StateEntry } from '../model/types.js';
import { TagStore } from '../store/tags.js';
import type { StoreContext } from './context.js';
import { compareStrings, listAllKeys } from './key-catalog.js';

export function tagStoreOf(ctx: StoreContext): TagStore {
  return new TagStore(ctx.fs, ctx.layout, ctx.objects);
}

export async function createSnapshot(ctx: StoreContext, phase: string, entities?: string[]): Promise<SnapshotMetadata> {
  assertSnapshotPhase(phase);
  const names = normalizeEntities(entities);
  const tags = tagStoreOf(ctx);
  // Under the lock: garbage collection and retention cannot remove a selected
  // version between selection and the tag that keeps its object alive.
  const metadata = await ctx.withWriteLock(async () => {
    const entries = (await listAllKeys(ctx))
      .map(({ versions }) => versions.at(-1)!)
      .filter(({ record }) => isSelectedForSnapshot(record, phase, names))
      .map(({ record, version }) => treeEntryOf(record, version))
      .sort((a, b) => compareStrings(a.fullKey, b.fullKey));
    let timestamp = new Date(ctx.clock()).toISOString();
    // Two snapshots of one phase in the same millisecond get distinct ids.
    while (await tags.exists(makeSnapshotId(phase, timestamp))) timestamp = new Date(Date.parse(timestamp) + 1).toISOString();
    const tree: SnapshotTree = { format: 1, type: 'tree', snapshotId: makeSnapshotId(phase, timestamp), phase, entities: names, timestamp, entries };
    const tag = await writeTreeAndTag(ctx, tags, tree, timestamp);
    return snapshotMetadata(tree, tag, ctx.options);
  });
  ctx.events.emit('snapshotCreated', { snapshotId: metadata.snapshotId, metadata });
  return metadata;
}

/** Writes a tree object and the tag naming it; the caller holds the write lock. */
export async function writeTreeAndTag(ctx: StoreContext, tags: TagStore, tree: SnapshotTree, created: string): Promise<TagRecord> {
  const bytes = ctx.metrics.serialize(tree, 'createSnapshot');
  const compress = ctx.options.enableCompression && bytes.length > ctx.options.compressionThreshold;
  const stored = await ctx.objects.write(bytes, compress);
  // The tree must be durable before a durable tag can name it, even when it
  // existed already (another process may not have flushed it yet).
  await ctx.objects.syncObjects([stored.checksum]);
  const tag: TagRecord = { format: 1, snapshotId: tree.snapshotId, tree: stored.checksum, created };
  await tags.write(tag);
  return tag;
}

/** The snapshot's versions by full key, data decoded; null when there is no such snapshot. */
export async function loadSnapshot(ctx: StoreContext, snapshotId: string): Promise<Record<string, StateEntry> | null> {
  const found = await readSnapshot(ctx, snapshotId);
  if (found === null) return null;
  const result: Record<string, StateEntry> = {};
  for (const entry of found.tree.entries) {
    const data = deserialize(await ctx.objects.read(entry.checksum, entry.fullKey));
    result[entry.fullKey] = stateEntryOf(entry, data, ctx.options.defaultTTL);
  }
  ctx.events.emit('snapshotLoaded', { snapshotId });
  return result;
}

/** The tag and verified tree of a snapshot, or null when the id names none. */
export async function readSnapshot(ctx: StoreContext, snapshotId: string): Promise<{ tag: TagRecord; tree: SnapshotTree } | null> {
  if (!isSnapshotId(snapshotId)) return null;
  const tags = tagStoreOf(ctx);
  const tag = await tags.read(snapshotId);
  return tag === null ? null : { tag, tree: await tags.readTree(tag) };
}

/** Every snapshot, newest first. */
export async function listSnapshots(ctx: StoreContext): Promise<SnapshotMetadata[]> {
  const tags = tagStoreOf(ctx);
  const list: SnapshotMetadata[] = [];
  for (const tag of await tags.list()) list.push(snapshotMetadata(await tags.readTree(tag), tag, ctx.options));
  return list.sort((a, b) => compareStrings(b.timestamp, a.timestamp) || compareStrings(b.snapshotId, a.snapshotId));
}

/** Removes a snapshot's tag; its objects become garbage unless something else names them. */
export async function deleteSnapshot(ctx: StoreContext, snapshotId: string): Promise<boolean> {
  if (!isSnapshotId(snapshotId)) return false;
  const removed = await ctx.withWriteLock(() => tagStoreOf(ctx).remove(snapshotId));
  if (removed) ctx.events.emit('snapshotDeleted', { snapshotId });
  return removed;
}

type SnapshotOptions = Pick<ResolvedOptions, 'defaultTTL' | 'enableCompression' | 'compressionThreshold'>;

/**
 * The reference's snapshot metadata (`id`, `timestamp`, `phase`, `entities`,
 * `checksum`, `compressed`, `size`, `ttl`) plus ours. `ttl` is twice the
 * default TTL, as the reference reports it; a snapshot itself never expires
 * by time here: it lives until `deleteSnapshot`.
 */
export function snapshotMetadata(tree: SnapshotTree, tag: TagRecord, options: SnapshotOptions): SnapshotMetadata {
  if (tree.snapshotId !== tag.snapshotId) {
    throw new IntegrityError(`tree ${tag.tree} belongs to ${tree.snapshotId}, not ${tag.snapshotId}`, { path: tag.tree });
  }
  const totalSize = tree.entries.reduce((sum, e) => sum + e.size, 0);
  return {
    id: tree.snapshotId,
    snapshotId: tree.snapshotId,
    phase: tree.phase,
    timestamp: tree.timestamp,
    entities: tree.entities ?? [],
    checksum: tag.tree,
    // The tree object is gzipped under the same rule as data (see writeTreeAndTag).
    compressed: options.enableCompression && serialize(tree).length > options.compressionThreshold,
    size: totalSize,
    ttl: options.defaultTTL * 2,
    entries: tree.entries.map((e) => e.fullKey),
    entryCount: tree.entries.length,
    totalSize,
    tree: tag.tree,
  };
}

/** A version's tree entry, from its record (or anything carrying the same fields, such as an archived version). */
export function treeEntryOf(
  record: Pick<VersionRecord, 'fullKey' | 'logicalKey' | 'checksum' | 'size' | 'compressed' | 'tags' | 'source' | 'created' | 'ttl' | 'phase'>,
  version: number,
): SnapshotTreeEntry {
  const entry: SnapshotTreeEntry = {
    fullKey: record.fullKey,
    logicalKey: record.logicalKey,
    version,
    checksum: record.checksum,
    size: record.size,
    compressed: record.compressed,
    tags: record.tags,
    source: record.source,
    created: record.created,
  };
  if (record.ttl !== undefined) entry.ttl = record.ttl;
  if (record.phase !== undefined) entry.phase = record.phase;
  return entry;
}

function stateEntryOf(entry: SnapshotTreeEntry, data: unknown, defaultTTL: number): StateEntry {
  const metadata: StateEntry['metadata'] = { size: entry.size, created: entry.created, accessed: new Date().toISOString(), source: entry.source };
  if (entry.phase !== undefined) metadata.phase = entry.phase;
  return {
    id: entry.fullKey,
    logicalKey: entry.logicalKey,
    timestamp: entry.fullKey.slice(entry.logicalKey.length + 1),
    version: entry.version,
    checksum: entry.checksum,
    data,
    compressed: entry.compressed,
    tags: entry.tags,
    ttl: entry.ttl ?? defaultTTL,
    metadata,
  };
}
