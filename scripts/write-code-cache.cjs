'use strict';
/**
 * Writes dist/cli/main.cjs.cache: V8's compiled code for the bundle, after
 * its top level has run and `--help` has registered every command, so the
 * code a start needs most is in it. Run by build-cli.mjs with the Node that
 * built the package and Node's default flags; another version, or other
 * flags, refuse the cache and compile anew. The layout is bin/cli-bundle.js's
 * (`encodeCodeCache`), written to a temporary name and renamed into place.
 */
const { renameSync, writeFileSync } = require('node:fs');
const { CODE_CACHE, compileBundle, encodeCodeCache } = require('../bin/cli-bundle.js');

async function writeCodeCache() {
  const { exports, script, bundle } = compileBundle({ useCache: false });
  // Help goes to this process's standard output, which build-cli.mjs discards.
  await exports.main(['--help'], 'ae-state');
  const temporary = `${CODE_CACHE}.${process.pid}.tmp`;
  writeFileSync(temporary, encodeCodeCache(bundle, script.createCachedData()));
  renameSync(temporary, CODE_CACHE);
}

writeCodeCache().catch((error) => {
  process.stderr.write(`write-code-cache: ${error.stack ?? error}\n`);
  process.exitCode = 1;
});
