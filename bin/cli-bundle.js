'use strict';
/**
 * Starts the bundled CLI (dist/cli/main.cjs, built by scripts/build-cli.mjs).
 *
 * The bundle is compiled with the V8 code cache the build wrote beside it,
 * so a start deserializes compiled code instead of parsing half a megabyte
 * of JavaScript. V8 checks a cache only against the source's length (an
 * edit of the same length would run the old code) and, in Node 20, not
 * against a checksum (a damaged cache can crash the process). So the cache
 * file carries its own guarantees, checked by comparisons alone (node:crypto
 * and zlib, which `--help` must not load, and a checksum in JavaScript, would
 * each cost a start more than the cache saves in part):
 *
 *   ae-state code cache 1 <bundle bytes> <V8 bytes>\n
 *   <a copy of the bundle> <V8's bytes> <V8's bytes again>
 *
 * The copy must equal the bundle byte for byte, and V8's bytes their second
 * copy, so an edited bundle or a damaged cache is never used. V8 then
 * refuses a cache made by another Node version or with other flags itself.
 * A cache refused for any reason costs only time: the bundle is compiled as
 * if there were none.
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
const HEADER = /^ae-state code cache 1 (\d+) (\d+)\n/;

/** A cache file for `bundle` and V8's `data` (scripts/write-code-cache.cjs). */
function encodeCodeCache(bundle, data) {
  return Buffer.concat([Buffer.from(`ae-state code cache 1 ${bundle.length} ${data.length}\n`, 'latin1'), bundle, data, data]);
}

/** V8's bytes, when the cache file is whole and made from these bundle bytes; undefined otherwise. */
function readCodeCache(bundle) {
  let file;
  try {
    file = readFileSync(CODE_CACHE);
  } catch {
    return undefined;
  }
  const header = HEADER.exec(file.toString('latin1', 0, Math.min(file.length, 64)));
  if (header === null || Number(header[1]) !== bundle.length) return undefined;
  const dataLength = Number(header[2]);
  const start = header[0].length;
  if (dataLength === 0 || file.length !== start + bundle.length + 2 * dataLength) return undefined;
  const data = file.subarray(start + bundle.length, start + bundle.length + dataLength);
  const isIntact = file.subarray(start, start + bundle.length).equals(bundle) && data.equals(file.subarray(start + bundle.length + dataLength));
  return isIntact ? data : undefined;
}

/**
 * Compiles and runs the bundle's top level. Returns its exports, the
 * compiled script and the bundle's bytes (write-code-cache.cjs serializes
 * them) and whether V8 took the cache.
 */
function compileBundle({ useCache = true } = {}) {
  const bundle = readFileSync(BUNDLE);
  const cachedData = useCache ? readCodeCache(bundle) : undefined;
  const script = new Script(`(function (exports, require, module, __aeBundleUrl, __aeImport) {${bundle.toString('utf8')}\n})`, {
    filename: BUNDLE,
    cachedData,
  });
  const bundleUrl = pathToFileURL(BUNDLE).href;
  // Packages resolve from here as from the bundle (the same node_modules above
  // both); the web view's files are named relative to the bundle.
  const hostImport = (specifier) => import(specifier.startsWith('.') ? new URL(specifier, bundleUrl).href : specifier);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, bundleUrl, hostImport);
  return { exports: module.exports, script, bundle, cacheAccepted: cachedData !== undefined && !script.cachedDataRejected };
}

/**
 * Runs the CLI. A command whose work stops without finishing (nothing left
 * to run, its promise never settled) exits 13, as an unsettled top-level
 * await does, never 0.
 */
function main(argv, name) {
  let isSettled = false;
  process.once('beforeExit', () => {
    if (isSettled) return;
    process.stderr.write(`${name.split(' ')[0]}: error: the command stopped before it finished\n`);
    process.exitCode = 13;
  });
  return compileBundle()
    .exports.main(argv, name)
    .finally(() => {
      isSettled = true;
    });
}

module.exports = { BUNDLE, CODE_CACHE, compileBundle, encodeCodeCache, main };
