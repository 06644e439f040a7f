/**
 * The package as a user installs it, without a registry: `npm pack` of this
 * checkout unpacked as `<project>/node_modules/ae-state`, with every package
 * of this checkout's node_modules linked beside it (dependencies of
 * dependencies and scoped packages included).
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers.js';

const run = promisify(execFile);

/** Installs the packed package into `project`; returns the installed package's directory. */
export async function installPackedPackage(project: string, packDir: string): Promise<string> {
  // --ignore-scripts: `npm test` has built dist already; prepack would rebuild it.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: REPO_ROOT });
  const [{ filename }] = JSON.parse(stdout) as Array<{ filename: string }>;
  const installed = join(project, 'node_modules', 'ae-state');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', join(packDir, filename), '-C', installed, '--strip-components=1']);
  for (const name of await readdir(join(REPO_ROOT, 'node_modules'))) {
    if (name === '.bin' || name.startsWith('.')) continue;
    await symlink(join(REPO_ROOT, 'node_modules', name), join(project, 'node_modules', name));
  }
  return installed;
}
