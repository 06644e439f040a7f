'use strict';
/**
 * Writes dist/cli/main.cjs.cache: V8's compiled code for the bundle, after
 * its top level has run, `--help` has registered every command, and the
 * commands hook scripts run most (`save`, `load`, `versions`) have worked
 * on a scratch store, so the code a start needs is in it instead of being
 * compiled function by function as it is first called. Run by build-cli.mjs
 * with the Node that built the package and Node's default flags; another
 * version, or other flags, refuse the cache and compile anew. The layout is
 * bin/cli-bundle.js's (`encodeCodeCache`), written to a temporary name and
 * renamed into place.
 */
const { mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { CODE_CACHE, compileBundle, encodeCodeCache } = require('../bin/cli-bundle.js');

/** What the warm-up runs, in a scratch project: two saves, so a load reads a key of more than one version. */
const WARM_UP = [['save', '-k', 'warm.up', '-i', 'doc.json'], ['save', '-k', 'warm.up', '-i', 'doc.json'], ['load', '-k', 'warm.up'], ['versions', '-k', 'warm.up']];

/** Runs WARM_UP on a scratch project in the temporary directory, removed afterwards, with no AE_STATE_* setting of the builder's. */
async function warmUp(exports) {
  for (const name of Object.keys(process.env)) if (name.startsWith('AE_STATE_')) delete process.env[name];
  // Absolute and without links: the warm-up changes into it, and removes it by this name afterwards.
  const project = realpathSync(mkdtempSync(join(resolve(tmpdir()), 'ae-state-code-cache-')));
  try {
    writeFileSync(join(project, 'doc.json'), JSON.stringify({ schema: 'warm-up', items: [1, 2, { name: 'x' }] }));
    for (const argv of WARM_UP) {
      process.chdir(project);
      await exports.main(['--root', project, ...argv], 'ae-state');
      if (process.exitCode) throw new Error(`ae-state ${argv.join(' ')} exited ${process.exitCode}`);
    }
  } finally {
    process.exitCode = undefined;
    process.chdir(__dirname);
    rmSync(project, { recursive: true, force: true });
  }
}

async function writeCodeCache() {
  const { exports, script, bundle } = compileBundle({ useCache: false });
  // Output goes to this process's standard output and error, which build-cli.mjs discards.
  await exports.main(['--help'], 'ae-state');
  try {
    await warmUp(exports);
  } catch (error) {
    // The cache is only a saving: without the warm-up it still holds what --help compiled.
    process.stderr.write(`write-code-cache: warning: the warm-up failed, so the cache holds less (${error.message})\n`);
  }
  const temporary = `${CODE_CACHE}.${process.pid}.tmp`;
  writeFileSync(temporary, encodeCodeCache(bundle, script.createCachedData()));
  renameSync(temporary, CODE_CACHE);
}

writeCodeCache().catch((error) => {
  process.stderr.write(`write-code-cache: ${error.stack ?? error}\n`);
  process.exitCode = 1;
});
