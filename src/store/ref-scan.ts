/**
 * Store-wide walks over version records, for garbage collection and fsck,
 * which (unlike readers) do not know the logical keys in advance: they list
 * `refs/keys/`, then read one key directory at a time, so memory holds one
 * key's records rather than the whole store's.
 */
import { join } from 'node:path';
import { refFileTimestamp } from '../model/keys.js';
import type { VersionRecord } from '../model/records.js';
import { readdirFast, readFileFast } from './bulk-io.js';
import type { StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import { parseVersionRecord } from './refs.js';

export interface ScannedRef {
  path: string;
  /** The file name. */
  name: string;
  record: VersionRecord;
}

export interface KeyDirScan {
  dir: string;
  /** Parsed refs, oldest first (file names sort by time). */
  refs: ScannedRef[];
  /** Ref files that do not parse as version records: `{path, message}`. */
  invalid: Array<{ path: string; message: string }>;
  /** Files that are not named like refs. */
  stray: string[];
}

/** Absolute paths of every key directory under `refs/keys/`. */
export async function listKeyDirPaths(fs: StoreFs, layout: StoreLayout): Promise<string[]> {
  return (await readdirFast(fs, layout.keyRefs)).sort().map((name) => join(layout.keyRefs, name));
}

/** Reads every ref of one key directory. Files removed while reading are skipped. */
export async function scanKeyDir(fs: StoreFs, dir: string): Promise<KeyDirScan> {
  const scan: KeyDirScan = { dir, refs: [], invalid: [], stray: [] };
  const names = (await readdirFast(fs, dir)).sort();
  const read = await Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      if (refFileTimestamp(name) === null) return { kind: 'stray' as const, path };
      const bytes = await readFileFast(fs, path);
      if (bytes === null) return null;
      try {
        return { kind: 'ref' as const, ref: { path, name, record: parseVersionRecord(bytes, path) } };
      } catch (error) {
        return { kind: 'invalid' as const, path, message: (error as Error).message };
      }
    }),
  );
  for (const item of read) {
    if (item === null) continue;
    if (item.kind === 'stray') scan.stray.push(item.path);
    else if (item.kind === 'invalid') scan.invalid.push({ path: item.path, message: item.message });
    else scan.refs.push(item.ref);
  }
  return scan;
}
