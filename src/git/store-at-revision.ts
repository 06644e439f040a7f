/**
 * The store as it was committed in the project's git history, read straight
 * from git's objects; the working tree is never touched. Version refs,
 * commit files and data objects are read from the tree of one git commit,
 * and the same rules as on disk apply: a version is visible only if its
 * commit file is in that tree, numbers come from `VersionIndex`, and every
 * object is checked against its checksum.
 */
import { realpath } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { GitError, IntegrityError } from '../errors.js';
import { keyDirName, refFileTimestamp } from '../model/keys.js';
import type { CommitOperation, VersionRecord } from '../model/records.js';
import { operationsByFullKey, parseCommitRecord } from '../store/commits.js';
import { decodePackIndex, PACK_NAME } from '../model/pack-index.js';
import { decodeObject } from '../store/objects.js';
import { parseVersionRecord } from '../store/refs.js';
import { VersionIndex, type CommitSource, type RefSource } from '../store/version-index.js';
import { findGitRepository } from './repository.js';
import { openGitAccess, resolveRevision, type GitAccess } from './revision.js';


interface TreeEntry {
  /** The entry's name within its tree. */
  path: string;
  type: string;
  oid: string;
}

export class StoreAtRevision implements RefSource, CommitSource {
  readonly index: VersionIndex;
  private commitNames: Promise<Set<string>> | null = null;
  private readonly trees = new Map<string, Promise<Map<string, TreeEntry> | null>>();
  private packs: Promise<Map<string, { path: string; bytes: Buffer; offset: number; length: number }>> | null = null;
  private readonly damagedPacks: Array<{ path: string; reason: string }> = [];

  constructor(
    private readonly access: GitAccess,
    /** The git commit read from. */
    readonly commit: string,
    /** The store directory relative to the working tree's top, with `/` separators. */
    private readonly prefix: string,
  ) {
    this.index = new VersionIndex(this, this);
  }

  async listPaths(logicalKey: string): Promise<string[]> {
    const dir = `${this.prefix}/refs/keys/${keyDirName(logicalKey)}`;
    const entries = await this.readTreeIfExists(dir);
    return entries
      .filter((e) => e.type === 'blob' && refFileTimestamp(e.path) !== null)
      .map((e) => e.path)
      .sort()
      .map((name) => `${dir}/${name}`);
  }

  async readIfExists(path: string): Promise<VersionRecord | null> {
    const bytes = await this.readBlobIfExists(path);
    return bytes === null ? null : parseVersionRecord(bytes, this.describe(path));
  }

  async isPublished(commitId: string): Promise<boolean> {
    this.commitNames ??= this.readTreeIfExists(`${this.prefix}/commits`).then(
      (entries) => new Set(entries.filter((e) => e.type === 'blob').map((e) => e.path)),
    );
    return (await this.commitNames).has(`${commitId}.json`);
  }

  /** The operations of a commit as committed, by full key; null when it is not in this revision. */
  async operationsOf(commitId: string): Promise<ReadonlyMap<string, CommitOperation> | null> {
    const path = `${this.prefix}/commits/${commitId}.json`;
    const bytes = await this.readBlobIfExists(path);
    return bytes === null ? null : operationsByFullKey(parseCommitRecord(bytes, commitId, this.describe(path)));
  }

  /** The operation a commit as committed lists for `fullKey` (undefined when none); null when the commit is not in this revision. */
  async operationFor(commitId: string, fullKey: string): Promise<CommitOperation | undefined | null> {
    const operations = await this.operationsOf(commitId);
    return operations === null ? null : operations.get(fullKey);
  }

  /** The verified serialised bytes of a data object as committed. */
  async readObject(checksum: string, key?: string): Promise<Buffer> {
    const path = `${this.prefix}/objects/${checksum.slice(0, 2)}/${checksum.slice(2)}`;
    const stored = await this.readBlobIfExists(path);
    if (stored !== null) return decodeObject(stored, checksum, this.describe(path), key);
    const packed = (await this.loadPacks()).get(checksum);
    if (packed !== undefined) return decodeObject(packed.bytes.subarray(packed.offset, packed.offset + packed.length), checksum, this.describe(packed.path), key);
    const damaged = this.damagedPacks.map((d) => `; ${this.describe(d.path)} ${d.reason}`).join('');
    throw new IntegrityError(`object ${checksum} is missing from ${this.describe(path)}${damaged}`, { path: this.describe(path), checksum, key });
  }

  /**
   * The packs of this revision (docs/FORMAT.md, "Packs"), read whole on the
   * first object that is not loose: each index checked as on disk.
   */
  private loadPacks(): Promise<Map<string, { path: string; bytes: Buffer; offset: number; length: number }>> {
    this.packs ??= (async () => {
      const found = new Map<string, { path: string; bytes: Buffer; offset: number; length: number }>();
      const dir = `${this.prefix}/objects/pack`;
      for (const entry of await this.readTreeIfExists(dir)) {
        const match = PACK_NAME.exec(entry.path);
        if (match === null || match[2] !== 'idx') continue;
        const path = `${dir}/pack-${match[1]}.pack`;
        const [index, bytes] = [await this.readBlobIfExists(`${dir}/${entry.path}`), await this.readBlobIfExists(path)];
        const decoded = index === null || bytes === null ? 'has no pack' : decodePackIndex(index, bytes.length);
        if (typeof decoded === 'string' || decoded.packHash !== match[1]) {
          this.damagedPacks.push({ path: `${dir}/${entry.path}`, reason: typeof decoded === 'string' ? decoded : 'names another pack' });
          continue;
        }
        for (const e of decoded.entries) found.set(e.checksum, { path, bytes: bytes!, offset: e.offset, length: e.length });
      }
      return found;
    })();
    return this.packs;
  }

  private describe(path: string): string {
    return `${this.commit.slice(0, 12)}:${path}`;
  }

  private async readTreeIfExists(path: string): Promise<TreeEntry[]> {
    return [...((await this.treeAt(path))?.values() ?? [])];
  }

  private async readBlobIfExists(path: string): Promise<Buffer | null> {
    const slash = path.lastIndexOf('/');
    const entry = (await this.treeAt(path.slice(0, Math.max(slash, 0))))?.get(path.slice(slash + 1));
    if (entry === undefined || entry.type !== 'blob') return null;
    const { git, fs, repo, cache } = this.access;
    try {
      const { blob } = await git.readBlob({ fs, gitdir: repo.commondir, oid: entry.oid, cache });
      return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    } catch (error) {
      throw gitReadError(path, error);
    }
  }

  /**
   * The entries of the tree at `path` ('' is the root), or null when there is
   * none. Trees are walked once from the root and kept, so reading many refs
   * of one key costs one object read each rather than a walk each.
   */
  private treeAt(path: string): Promise<Map<string, TreeEntry> | null> {
    let tree = this.trees.get(path);
    if (tree === undefined) {
      tree = this.loadTree(path);
      this.trees.set(path, tree);
    }
    return tree;
  }

  private async loadTree(path: string): Promise<Map<string, TreeEntry> | null> {
    let oid = this.commit;
    if (path !== '') {
      const slash = path.lastIndexOf('/');
      const entry = (await this.treeAt(path.slice(0, Math.max(slash, 0))))?.get(path.slice(slash + 1));
      if (entry === undefined || entry.type !== 'tree') return null;
      oid = entry.oid;
    }
    const { git, fs, repo, cache } = this.access;
    try {
      const { tree } = await git.readTree({ fs, gitdir: repo.commondir, oid, cache });
      return new Map(tree.map((e) => [e.path, { path: e.path, type: e.type, oid: e.oid }]));
    } catch (error) {
      throw gitReadError(path === '' ? this.commit : path, error);
    }
  }
}

/**
 * Opens the store of `projectRoot` as committed at `rev`. The store
 * directory must lie inside the project's git working tree.
 */
export async function openStoreAtRevision(projectRoot: string, storeDir: string, rev: string): Promise<StoreAtRevision> {
  const repo = await findGitRepository(projectRoot);
  if (repo === null) throw new GitError(`${projectRoot} is not inside a git repository, so there is no revision ${JSON.stringify(rev)}`, { rev });
  const access = await openGitAccess(repo);
  const commit = await resolveRevision(access, rev);
  const prefix = await storePrefix(repo.worktree, projectRoot, storeDir);
  // A git commit never changes, so what was read from it stays valid.
  const cacheKey = `${repo.commondir}\0${prefix}\0${commit}`;
  let store = recent.get(cacheKey);
  if (store === undefined) {
    store = new StoreAtRevision(access, commit, prefix);
    if (recent.size >= RECENT_LIMIT) recent.delete(recent.keys().next().value!);
  } else {
    recent.delete(cacheKey);
  }
  recent.set(cacheKey, store);
  return store;
}

const RECENT_LIMIT = 8;
const recent = new Map<string, StoreAtRevision>();

/** The store directory relative to the working tree, as a git tree path. */
export async function storePrefix(worktree: string, projectRoot: string, storeDir: string): Promise<string> {
  // Real paths on both sides: temporary directories are often reached through
  // symlinks. The store itself may not exist in the working tree any more.
  const top = await realpath(worktree);
  const store = resolve(await realpath(projectRoot), relative(projectRoot, storeDir));
  const rel = relative(top, store);
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) {
    throw new GitError(`the store ${storeDir} is not inside the git working tree ${worktree}`, { storeDir, worktree });
  }
  return rel.split(sep).join('/');
}

function gitReadError(path: string, cause: unknown): GitError {
  return new GitError(`cannot read ${path} from git: ${cause instanceof Error ? cause.message : String(cause)}`, { path });
}
