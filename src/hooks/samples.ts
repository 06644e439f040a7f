/**
 * Installing the package's sample hooks (`hooks/*.sample`) into a store's
 * `hooks/` directory. Samples are inactive by name; a user activates one by
 * copying it without the `.sample` suffix and making it executable, as with
 * git's own sample hooks. Existing files are never replaced. The content
 * of each installed sample is trusted under any name (see trust.ts), so a
 * sample copied unchanged runs; an edited copy must be trusted again.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempPathFor, writeDurableFile } from '../store/atomic-write.js';
import { isErrno, type StoreFs } from '../store/fs.js';
import type { StoreLayout } from '../store/layout.js';
import { sampleHooksDir } from './package-paths.js';
import { trustHooks } from './trust.js';

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
  const approved: Array<{ name: string; content: Uint8Array }> = [];
  for (const name of names) {
    const content = await readFile(join(source, name));
    const copied = await copyIfAbsent(fs, layout, content, join(layout.hooks, name));
    (copied ? result.installed : result.kept).push(name);
    if (copied) approved.push({ name, content });
  }
  if (approved.length > 0) await trustHooks(layout.root, [], approved);
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
