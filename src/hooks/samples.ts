/**
 * Installing the package's sample hooks (`hooks/*.sample`) into a store's
 * `hooks/` directory. Samples are inactive by name; a user activates one by
 * copying it without the `.sample` suffix and making it executable, as with
 * git's own sample hooks. Existing files are never replaced.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempPathFor, writeDurableFile } from '../store/atomic-write.js';
import { isErrno, type StoreFs } from '../store/fs.js';
import type { StoreLayout } from '../store/layout.js';
import { sampleHooksDir } from './package-paths.js';

export interface SampleInstallResult {
  /** Samples copied by this call. */
  installed: string[];
  /** Samples left alone because a file of that name already existed. */
  kept: string[];
}

/** Copies every `*.sample` of the package into `<store>/hooks/`, keeping files that exist. */
export async function installSampleHooks(fs: StoreFs, layout: StoreLayout): Promise<SampleInstallResult> {
  const result: SampleInstallResult = { installed: [], kept: [] };
  const source = sampleHooksDir();
  if (source === null) return result;
  await fs.mkdir(layout.hooks, { recursive: true });
  await fs.mkdir(layout.tmp, { recursive: true });
  const names = (await readdir(source)).filter((name) => name.endsWith('.sample')).sort();
  for (const name of names) {
    const copied = await copyIfAbsent(fs, layout, await readFile(join(source, name)), join(layout.hooks, name));
    (copied ? result.installed : result.kept).push(name);
  }
  return result;
}

/**
 * Writes the file aside and hard-links it into place: `link` fails when the
 * target exists, so a file the user edited (or another process installed a
 * moment ago) is never overwritten, and the target is never seen half-written.
 */
async function copyIfAbsent(fs: StoreFs, layout: StoreLayout, bytes: Buffer, target: string): Promise<boolean> {
  const temp = tempPathFor(layout.tmp, target);
  await writeDurableFile(fs, temp, bytes);
  try {
    await fs.link(temp, target);
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw error;
  } finally {
    await fs.unlink(temp).catch(() => undefined);
  }
}
