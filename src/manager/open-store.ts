/**
 * Creating and opening a store directory: the layout, the format marker, the
 * `.gitignore` that keeps local-only files out of git, and recovery after a
 * crash (temp files and lock leftovers of dead processes).
 */
import { join } from 'node:path';
import { UnsupportedFormatError } from '../errors.js';
import { FORMAT_VERSION } from '../model/records.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { removeDeadWriterDebris } from '../store/debris.js';
import { assertUsableProjectRoot } from '../store/project-root.js';
import { readFileIfExists, type StoreFs } from '../store/fs.js';
import type { StoreLayout } from '../store/layout.js';

export const FORMAT_MARKER = `ae-state store format ${FORMAT_VERSION}\n`;

export const STORE_GITIGNORE = `# Written by ae-state. Everything else in this directory is meant to be committed.
# local/ holds this machine's lock, temporary files, staging and caches.
/local/
# Hook scripts run on this machine's events; as in git, a clone does not bring
# them along, so checking out a repository never runs code on a save.
/hooks/
`;

// Commit files are verified by the hash of their exact bytes, and objects are
// binary: git must never convert line endings anywhere in the store.
export const STORE_GITATTRIBUTES = `# Written by ae-state: store files are compared byte for byte.
* -text
`;

export async function openStore(fs: StoreFs, layout: StoreLayout): Promise<void> {
  assertUsableProjectRoot(layout.root);
  await checkFormat(fs, layout);
  await Promise.all(
    [layout.objects, layout.keyRefs, layout.tags, layout.commits, layout.tmp, layout.staging].map((dir) =>
      fs.mkdir(dir, { recursive: true }),
    ),
  );
  if ((await readFileIfExists(fs, layout.formatFile)) === null) {
    await writeFileAtomic(fs, layout.tmp, layout.formatFile, Buffer.from(FORMAT_MARKER));
  }
  for (const [path, content] of [
    [layout.gitignore, STORE_GITIGNORE],
    [join(layout.store, '.gitattributes'), STORE_GITATTRIBUTES],
  ] as const) {
    if ((await readFileIfExists(fs, path)) === null) await writeFileAtomic(fs, layout.tmp, path, Buffer.from(content));
  }
  await removeDeadWriterDebris(fs, layout);
}

async function checkFormat(fs: StoreFs, layout: StoreLayout): Promise<void> {
  const marker = await readFileIfExists(fs, layout.formatFile);
  if (marker === null) return;
  const text = marker.toString('utf8');
  if (text !== FORMAT_MARKER) {
    throw new UnsupportedFormatError(
      `${layout.formatFile} says ${JSON.stringify(text.trim())}; this ae-state reads ${JSON.stringify(FORMAT_MARKER.trim())}`,
      { path: layout.formatFile },
    );
  }
}
