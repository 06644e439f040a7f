/**
 * Reading a snapshot tar (format in src/archive/manifest.ts), streamed: one
 * member in memory at a time. Everything is checked before anything becomes
 * visible: member names (no absolute paths, `..`, backslashes), member types
 * (regular files only: no links, devices, directories), duplicates, sizes
 * (at most MAX_ARCHIVE_ENTRY_BYTES), the manifest, and every entry's
 * checksum and size against the manifest. Every manifest entry is checked
 * as the ref record it will become (src/model/import-check.ts) before any
 * object is written, and every entry's data as it arrives: it must decode as
 * `loadSSOT` will decode it. Verified entries are written as objects as they
 * arrive; the caller removes the ones this import created (`created`) when
 * the import fails, so a refused archive leaves no objects behind.
 */
import type { Readable } from 'node:stream';
import { isAeStateError, UnsafeArchiveError } from '../errors.js';
import { ImportBudget, importedVersionProblem, serializedDataProblem } from '../model/import-check.js';
import { assertTextDepth } from '../model/codec.js';
import type { StagedVersion } from '../store/publish.js';
import { WritePool } from '../store/write-pool.js';
import { sha256Hex } from '../store/objects.js';
import type { ObjectWriter } from '../store/pack-writer.js';
import type { ResolvedOptions } from '../model/options.js';
import type { ProgressListener } from './export-tar.js';
import {
  archivePathProblem,
  decodeEntryFile,
  MANIFEST_NAME,
  MAX_ARCHIVE_ENTRY_BYTES,
  parseManifest,
  type ManifestEntry,
  type SnapshotManifest,
} from './manifest.js';

export interface TarImportContext {
  /** Where the verified objects go: the import's pack. */
  objects: ObjectWriter;
  options: Pick<ResolvedOptions, 'enableCompression' | 'compressionThreshold'>;
  onProgress?: ProgressListener;
  /** Receives the checksum of every object this import wrote that was not in the store before. */
  created: Set<string>;
}

export interface TarImport {
  manifest: SnapshotManifest;
  /** One staged version per manifest entry, in manifest order; objects written, nothing published. */
  staged: StagedVersion[];
}

interface TarMember extends AsyncIterable<Buffer> {
  header: { name: string; type: string; size: number };
}

export async function readSnapshotTar(ctx: TarImportContext, source: Readable): Promise<TarImport> {
  const { extract } = await import('tar-stream');
  const members = extract();
  source.on('error', (error) => members.destroy(error));
  source.pipe(members as unknown as NodeJS.WritableStream);
  try {
    return await readMembers(ctx, members as unknown as AsyncIterable<TarMember>);
  } catch (error) {
    // Errors with an errno code are I/O errors of this machine, not of the archive.
    if (isAeStateError(error) || (error as NodeJS.ErrnoException).code !== undefined) throw error;
    throw new UnsafeArchiveError(`not a readable snapshot tar: ${(error as Error).message}`);
  } finally {
    source.unpipe();
    source.destroy();
    members.destroy();
  }
}

async function readMembers(ctx: TarImportContext, members: AsyncIterable<TarMember>): Promise<TarImport> {
  const pool = new WritePool(16);
  try {
    return await readMembersInto(ctx, members, pool);
  } catch (error) {
    // Every object write has settled before the caller removes what was created.
    await pool.settle();
    throw error;
  }
}

async function readMembersInto(ctx: TarImportContext, members: AsyncIterable<TarMember>, pool: WritePool): Promise<TarImport> {
  let manifest: SnapshotManifest | null = null;
  let expected = new Map<string, ManifestEntry>();
  const seen = new Set<string>();
  const stagedByFile = new Map<string, StagedVersion>();
  for await (const member of members) {
    const name = checkMember(member.header, seen);
    const body = await readBody(member);
    if (manifest === null) {
      if (name !== MANIFEST_NAME) throw new UnsafeArchiveError(`the archive must start with ${MANIFEST_NAME}, not ${JSON.stringify(name)}`);
      manifest = parseManifest(body);
      checkManifestImportable(manifest);
      expected = new Map(manifest.entries.map((entry) => [entry.file, entry]));
      continue;
    }
    const entry = expected.get(name);
    if (entry === undefined) throw new UnsafeArchiveError(`tar member ${JSON.stringify(name)} is not listed in ${MANIFEST_NAME}`, { name });
    await pool.add(async () => {
      stagedByFile.set(name, await stageEntry(ctx, entry, body));
      ctx.onProgress?.(stagedByFile.size, expected.size);
    });
  }
  await pool.drain();
  if (manifest === null) throw new UnsafeArchiveError(`the archive has no ${MANIFEST_NAME}`);
  const missing = manifest.entries.filter((entry) => !stagedByFile.has(entry.file));
  if (missing.length > 0) {
    throw new UnsafeArchiveError(`the archive lacks ${missing.length} entries listed in ${MANIFEST_NAME}, e.g. ${missing[0]!.file}`, { missing: missing.length });
  }
  return { manifest, staged: manifest.entries.map((entry) => stagedByFile.get(entry.file)!) };
}

/** Checks a member's header and returns its name. */
function checkMember(header: TarMember['header'], seen: Set<string>): string {
  const { name, type, size } = header;
  const problem = archivePathProblem(name);
  if (problem !== null) throw new UnsafeArchiveError(`tar member ${JSON.stringify(name)} ${problem}`, { name });
  if (type !== 'file' && type !== 'contiguous-file') {
    throw new UnsafeArchiveError(`tar member ${JSON.stringify(name)} is a ${type}; only regular files are accepted`, { name, type });
  }
  if (seen.has(name)) throw new UnsafeArchiveError(`tar member ${JSON.stringify(name)} appears twice`, { name });
  seen.add(name);
  if (!(Number.isSafeInteger(size) && size >= 0 && size <= MAX_ARCHIVE_ENTRY_BYTES)) {
    throw new UnsafeArchiveError(`tar member ${JSON.stringify(name)} is ${size} bytes, above the limit of ${MAX_ARCHIVE_ENTRY_BYTES}`, { name, size });
  }
  return name;
}

async function readBody(member: TarMember): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of member) {
    total += chunk.length;
    // The header's size bounds the body; this guards against a lying pax size too.
    if (total > MAX_ARCHIVE_ENTRY_BYTES) throw new UnsafeArchiveError(`tar member ${JSON.stringify(member.header.name)} is larger than ${MAX_ARCHIVE_ENTRY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** Every entry checked as the record it becomes, and the archive's total size, before any object is written. */
function checkManifestImportable(manifest: SnapshotManifest): void {
  const budget = new ImportBudget();
  for (const [i, entry] of manifest.entries.entries()) {
    const fail = (rule: string): never => {
      throw new UnsafeArchiveError(`${MANIFEST_NAME} entries[${i}] (${JSON.stringify(entry.fullKey)}) ${rule}`, { name: entry.file });
    };
    const problem = importedVersionProblem({ ...entry, timestamp: entry.fullKey.slice(entry.logicalKey.length + 1) });
    if (problem !== null) fail(problem);
    budget.add(entry.size, fail);
  }
}

async function stageEntry(ctx: TarImportContext, entry: ManifestEntry, body: Buffer): Promise<StagedVersion> {
  try {
    // Parsing is iterative but re-serialising recurses: deep data is refused first.
    assertTextDepth(body.toString('utf8'));
  } catch (error) {
    throw new UnsafeArchiveError(`${entry.file}: ${(error as Error).message}`, { name: entry.file });
  }
  const serialized = decodeEntryFile(body);
  if (serialized === null) throw new UnsafeArchiveError(`${entry.file} is not valid JSON`, { name: entry.file });
  const checksum = sha256Hex(serialized);
  if (checksum !== entry.checksum) {
    throw new UnsafeArchiveError(`${entry.file} does not match its checksum: the manifest says ${entry.checksum}, the content hashes to ${checksum}`, {
      name: entry.file,
    });
  }
  if (serialized.length !== entry.size) {
    throw new UnsafeArchiveError(`${entry.file} is ${serialized.length} bytes, but the manifest says ${entry.size}`, { name: entry.file });
  }
  const dataProblem = serializedDataProblem(serialized);
  if (dataProblem !== null) throw new UnsafeArchiveError(`${entry.file} ${dataProblem}`, { name: entry.file });
  const compress = ctx.options.enableCompression && serialized.length > ctx.options.compressionThreshold;
  // Made durable by the commit that publishes it (publishCommit syncs its objects).
  const stored = await ctx.objects.write(serialized, compress, checksum);
  // A reused object has no directory to sync; a new one does.
  if (stored.dirsToSync.length > 0) ctx.created.add(checksum);
  const staged: StagedVersion = {
    logicalKey: entry.logicalKey,
    timestamp: entry.fullKey.slice(entry.logicalKey.length + 1),
    version: entry.version,
    checksum,
    compressed: stored.compressed,
    size: entry.size,
    tags: entry.tags,
    source: entry.source,
    created: entry.created,
  };
  if (entry.ttl !== undefined) staged.ttl = entry.ttl;
  if (entry.phase !== undefined) staged.phase = entry.phase;
  return staged;
}
