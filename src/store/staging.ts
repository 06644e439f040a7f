/**
 * Reading `local/staging/<id>.json`, the list of objects each open
 * transaction or import (in any process of this machine) has written. Garbage
 * collection keeps those objects; files left by processes that no longer run
 * belong to transactions that can never commit.
 */
import { join } from 'node:path';
import { isChecksum } from '../model/records.js';
import { readdirIfExists, readFileIfExists, type StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';
import { isProcessAlive } from './process.js';

export interface StagingPins {
  /** Objects written by transactions that are still open. */
  checksums: Set<string>;
  /** Staging files whose owner process is gone. */
  deadFiles: string[];
  /** Staging files that cannot be read as a staging index. */
  invalidFiles: string[];
}

export async function readStagingPins(fs: StoreFs, layout: StoreLayout): Promise<StagingPins> {
  const pins: StagingPins = { checksums: new Set(), deadFiles: [], invalidFiles: [] };
  const names = (await readdirIfExists(fs, layout.staging)).filter((name) => name.endsWith('.json'));
  for (const name of names) {
    const path = join(layout.staging, name);
    const bytes = await readFileIfExists(fs, path);
    if (bytes === null) continue; // Committed or rolled back meanwhile.
    const index = parseStagingIndex(bytes);
    if (index === null) {
      // Written without fsync by a live writer, so it may be mid-write: keep
      // nothing by it, but do not delete it either.
      pins.invalidFiles.push(path);
    } else if (!isProcessAlive(index.pid)) {
      pins.deadFiles.push(path);
    } else {
      for (const checksum of index.checksums) pins.checksums.add(checksum);
    }
  }
  return pins;
}

/**
 * A staging file is a JSON header line `{txId, pid}` followed by one checksum
 * per line, appended as saves are staged (the last line may be partly
 * written, and is then ignored); a header may also carry all its
 * `checksums` itself (imports write the file whole).
 */
function parseStagingIndex(bytes: Buffer): { pid: number; checksums: string[] } | null {
  const [header, ...lines] = bytes.toString('utf8').split('\n');
  try {
    const parsed = JSON.parse(header!) as { pid?: unknown; checksums?: unknown };
    if (!Number.isSafeInteger(parsed.pid)) return null;
    const listed = Array.isArray(parsed.checksums) ? parsed.checksums : [];
    return { pid: parsed.pid as number, checksums: [...listed, ...lines].filter(isChecksum) };
  } catch {
    return null;
  }
}
