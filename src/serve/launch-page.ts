/**
 * What `serve --open` hands the browser. The URL holds the token, and a
 * program's arguments are visible to every local user (`ps`, `/proc`), so
 * the opener gets the path of a page only the user can read, which sends
 * the browser on to the URL (as Jupyter does). The page lives in a private
 * temporary directory, removed when the server stops.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LaunchPage {
  /** The page's file path: safe to pass on a command line. */
  path: string;
  remove(): Promise<void>;
}

export async function writeLaunchPage(url: string): Promise<LaunchPage> {
  // mkdtemp makes the directory 0700; the file is 0600 besides.
  const dir = await mkdtemp(join(tmpdir(), 'ae-state-serve-'));
  const path = join(dir, 'open.html');
  const target = escapeAttribute(url);
  const page = `<!doctype html>\n<meta charset="utf-8">\n<meta http-equiv="refresh" content="0;url=${target}">\n<title>ae-state serve</title>\n<p><a href="${target}">Open the ae-state web view</a></p>\n`;
  await writeFile(path, page, { mode: 0o600, flag: 'wx' });
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
