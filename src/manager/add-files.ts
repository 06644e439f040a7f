/**
 * `addFiles`: JSON files on disk, each saved as the next version of its
 * logical key, all in one commit. Every file is found, read, parsed and named
 * before anything is written, so one bad file leaves the store as it was.
 */
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { serialize } from '../model/codec.js';
import { keyOfDocument, parseKeySource, type KeySource } from '../model/file-keys.js';
import { parseJsonDocument } from '../model/json-document.js';
import { sha256Hex } from '../store/objects.js';
import { PackWriter } from '../store/pack-writer.js';
import type { StoreContext } from './context.js';
import { commitStaged, listVersions, stageSave } from './versions.js';
import type { VersionsCleanup } from './versions.js';

export interface AddFilesOptions {
  /** Directory the patterns are relative to, inside the project root. Default: the project root. */
  cwd?: string;
  /** `path` (default) or `field:NAME`: derive each key from the file's path, or from a top-level string field. */
  keyFrom?: string;
  /** Phase recorded with every saved version. */
  phase?: string;
  /** Report what would be saved, and save nothing. */
  dryRun?: boolean;
}

export interface AddedFile {
  /** The file's path from the project root, with `/`. */
  file: string;
  key: string;
  /** `saved` (or, with dryRun, `changed`), or `unchanged`: equal to the key's newest version. */
  status: 'saved' | 'changed' | 'unchanged';
  /** The version saved, or the newest version the file equals. */
  version?: number;
  fullKey?: string;
}

export interface AddFilesResult {
  files: AddedFile[];
  /** Symbolic links found by the patterns; they are not followed or read. */
  skippedLinks: string[];
  commit: string | null;
  cleanups: VersionsCleanup[];
}

interface FoundFile {
  file: string;
  key: string;
  data: unknown;
  checksum: string;
}

/** `openForWriting` creates the store, once every file has been checked: a failed add leaves no store behind. */
export async function addFiles(
  ctx: StoreContext,
  patterns: readonly string[],
  options: AddFilesOptions,
  openForWriting: () => Promise<void>,
): Promise<AddFilesResult> {
  const keySource = parseKeySource(options.keyFrom ?? 'path');
  const { files, skippedLinks } = await findFiles(ctx, patterns, options.cwd);
  const found = await readFiles(ctx, files, keySource);
  const results: AddedFile[] = [];
  const changed: FoundFile[] = [];
  for (const file of found) {
    const [newest] = await listVersions(ctx, file.key);
    if (newest !== undefined && newest.checksum === file.checksum) {
      results.push({ file: file.file, key: file.key, status: 'unchanged', version: newest.version, fullKey: newest.key });
    } else {
      changed.push(file);
      results.push({ file: file.file, key: file.key, status: 'changed' });
    }
  }
  if (options.dryRun || changed.length === 0) return { files: results, skippedLinks, commit: null, cleanups: [] };
  await openForWriting();
  const staged = [];
  // The new objects go into one pack, published with the commit.
  const pack = new PackWriter(ctx.fs, ctx.layout, ctx.objects);
  const cleanups: VersionsCleanup[] = [];
  const collect = (cleanup: VersionsCleanup) => cleanups.push(cleanup);
  ctx.events.on('versionsCleanedUp', collect);
  try {
    for (const file of changed) staged.push(await stageSave(ctx, file.key, file.data, { phase: options.phase, source: file.file }, 'saveSSOT', pack));
    const published = await commitStaged(ctx, staged, { message: `add ${changed.length} file(s)`, transaction: null, pack });
    const byKey = new Map(published.records.map((r) => [r.logicalKey, r]));
    for (const result of results) {
      const record = result.status === 'changed' ? byKey.get(result.key) : undefined;
      if (record !== undefined) Object.assign(result, { status: 'saved', version: record.version, fullKey: record.fullKey });
    }
    return { files: results, skippedLinks, commit: published.id, cleanups };
  } finally {
    await pack.discard();
    ctx.events.off('versionsCleanedUp', collect);
  }
}

/** Files matching the patterns, relative to the project root, sorted; symlinks set apart, never followed. */
async function findFiles(ctx: StoreContext, patterns: readonly string[], cwd: string | undefined): Promise<{ files: string[]; skippedLinks: string[] }> {
  const root = ctx.layout.root;
  const base = resolve(root, cwd ?? '.');
  if (!isInside(root, base)) throw new InvalidArgumentError(`${base} is outside the project root ${root}`, { cwd: base });
  if (patterns.length === 0) throw new InvalidArgumentError('add needs at least one pattern, e.g. "specs/**/*.json"');
  const fromRoot = patterns.map((pattern) => patternFromRoot(root, base, pattern));
  const { default: fg } = await import('fast-glob');
  const storeDir = relative(root, ctx.layout.store).split(sep).join('/');
  const files = new Set<string>();
  const skippedLinks = new Set<string>();
  const linkedDirOf = linkedDirectoryFinder(ctx);
  for (const [i, pattern] of fromRoot.entries()) {
    const entries = await fg(pattern, {
      cwd: root,
      onlyFiles: false,
      followSymbolicLinks: false,
      dot: false,
      stats: true,
      ignore: ['**/node_modules/**', `${storeDir}/**`],
    });
    if (entries.length === 0) throw new InvalidArgumentError(`pattern ${JSON.stringify(patterns[i])} matched no files`, { pattern: patterns[i] });
    for (const entry of entries) {
      const absolute = join(root, entry.path);
      const file = relative(root, absolute).split(sep).join('/');
      if (!isInside(root, absolute)) throw new InvalidArgumentError(`${entry.path} is outside the project root`, { file: entry.path });
      const linkedDir = await linkedDirOf(file);
      if (linkedDir !== null) skippedLinks.add(linkedDir);
      else if (entry.stats?.isSymbolicLink()) skippedLinks.add(file);
      else if (entry.stats?.isFile()) files.add(file);
    }
  }
  return { files: [...files].sort(), skippedLinks: [...skippedLinks].sort() };
}

/**
 * fast-glob's `followSymbolicLinks: false` only keeps `**` out of linked
 * directories; a pattern that names one (`specs/linked/*.json`) is still read
 * through it, and could reach a file outside the project. So every directory
 * between the root and a match is checked, each once: the first one that is a
 * link is returned, and the match is skipped.
 */
function linkedDirectoryFinder(ctx: StoreContext): (file: string) => Promise<string | null> {
  const isLink = new Map<string, Promise<boolean>>();
  const check = (dir: string) => {
    let known = isLink.get(dir);
    if (known === undefined) {
      known = ctx.fs.lstat(join(ctx.layout.root, dir)).then((stats) => stats.isSymbolicLink());
      isLink.set(dir, known);
    }
    return known;
  };
  return async (file) => {
    const segments = file.split('/').slice(0, -1);
    for (let i = 1; i <= segments.length; i++) {
      const dir = segments.slice(0, i).join('/');
      if (await check(dir)) return dir;
    }
    return null;
  };
}

/**
 * A pattern relative to `base`, rewritten relative to the project root. `..`
 * is allowed only before any wildcard and only while it stays inside the
 * root, so no pattern can reach a file outside the project.
 */
function patternFromRoot(root: string, base: string, pattern: string): string {
  const refuse = () =>
    new InvalidArgumentError(`pattern ${JSON.stringify(pattern)} reaches outside the project root ${root}; patterns are relative paths inside it`, { pattern });
  if (isAbsolute(pattern) || /^[a-zA-Z]:/.test(pattern)) throw refuse();
  const segments = pattern.split(/[\\/]/);
  const firstGlob = segments.findIndex((s) => /[*?[\]{}()!]/.test(s));
  if (firstGlob !== -1 && segments.slice(firstGlob).includes('..')) throw refuse();
  const joined = posix.normalize(posix.join(relative(root, base).split(sep).join('/') || '.', pattern));
  if (joined === '..' || joined.startsWith('../')) throw refuse();
  return joined;
}

async function readFiles(ctx: StoreContext, files: string[], keySource: KeySource): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const owners = new Map<string, string>();
  for (const file of files) {
    const data = await parseJsonDocument(await ctx.fs.readFile(join(ctx.layout.root, file)), file);
    const key = keyOfDocument(keySource, file, data);
    const other = owners.get(key);
    if (other !== undefined) throw new InvalidArgumentError(`${other} and ${file} both name the key ${JSON.stringify(key)}`, { key, files: [other, file] });
    owners.set(key, file);
    found.push({ file, key, data, checksum: sha256Hex(serialize(data)) });
  }
  return found;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
