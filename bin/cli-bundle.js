'use strict';
/**
 * Starts the bundled CLI (dist/cli/main.cjs, built by scripts/build-cli.mjs).
 *
 * The bundle is compiled with the V8 code cache the build wrote beside it,
 * so a start deserializes compiled code instead of parsing half a megabyte
 * of JavaScript. The cache is used only when its stamp names these exact
 * bundle bytes; V8 then refuses it itself if it was made by another Node
 * version or with other flags. A refused or missing cache costs only time:
 * V8 compiles the source as if there were none.
 *
 * CommonJS on purpose (bin/package.json): a CommonJS entry starts without
 * the ES module loader, which `import()` brings in only when a command
 * needs a package.
 */
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'cli', 'main.cjs');
const CODE_CACHE = `${BUNDLE}.cache`;
const STAMP = /\n\/\/ ae-state build ([0-9a-f]{64})\n$/;
const STAMP_BYTES = 64;

/** The cache's compiled code, when its stamp is the bundle's; undefined otherwise. */
function readCodeCache(stamp) {
  let bytes;
  try {
    bytes = readFileSync(CODE_CACHE);
  } catch {
    return undefined;
  }
  if (bytes.length <= STAMP_BYTES || bytes.toString('latin1', 0, STAMP_BYTES) !== stamp) return undefined;
  return bytes.subarray(STAMP_BYTES);
}

/**
 * Compiles and runs the bundle's top level. Returns its exports, the
 * compiled script (write-code-cache.cjs serializes it) and whether V8 took
 * the cache.
 */
function compileBundle({ useCache = true } = {}) {
  const source = readFileSync(BUNDLE, 'utf8');
  const stamp = STAMP.exec(source)?.[1];
  if (stamp === undefined) throw new Error(`${BUNDLE} carries no build stamp: run "npm run build"`);
  const cachedData = useCache ? readCodeCache(stamp) : undefined;
  const script = new Script(`(function (exports, require, module, __aeBundleUrl, __aeImport) {${source}\n})`, { filename: BUNDLE, cachedData });
  const bundleUrl = pathToFileURL(BUNDLE).href;
  // Packages resolve from here as from the bundle (the same node_modules above
  // both); the web view's files are named relative to the bundle.
  const hostImport = (specifier) => import(specifier.startsWith('.') ? new URL(specifier, bundleUrl).href : specifier);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, bundleUrl, hostImport);
  return { exports: module.exports, script, stamp, cacheAccepted: cachedData !== undefined && !script.cachedDataRejected };
}

module.exports = { BUNDLE, CODE_CACHE, compileBundle, main: (argv, name) => compileBundle().exports.main(argv, name) };
