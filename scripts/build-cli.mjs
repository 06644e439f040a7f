/**
 * Bundles the CLI into dist/cli/ after `tsc` has checked the sources: one
 * script to read and compile at start instead of some forty modules, which is
 * what every hook script calling `ae-state load` pays for.
 *
 * The bundle is a CommonJS function body, not a module: bin/cli-bundle.js
 * compiles it with V8's code cache, written here once the bundle is built
 * (write-code-cache.cjs) and checked to be taken by a fresh process, so a
 * start deserializes compiled code instead of parsing half a megabyte; and
 * a CommonJS entry spares the start the ES module loader. What the bundle
 * needs from its host it is given as arguments: `require`, its own URL (for
 * `import.meta.url`) and `import()` (a compiled script has no module loader
 * of its own).
 *
 * What stays lazy:
 * - each command, and the store behind it: a dynamic `import()` of bundled
 *   code becomes a deferred initialiser in the bundle, run when the command
 *   is chosen;
 * - every package but commander (isomorphic-git, tar-stream, jsondiffpatch
 *   and any added later): external, loaded from node_modules by the dynamic
 *   imports that already defer them;
 * - node:crypto, node:zlib, node:child_process, node:worker_threads,
 *   node:v8, node:fs/promises, node:tty, node:os and node:timers/promises:
 *   a bundle hoists every `import` of a built-in to the top of the module
 *   that has it, and commander (bundled: every command parses with it)
 *   requires child_process at load only to spawn executable subcommands,
 *   which this CLI has none of. So these load when a function of theirs is
 *   first called: `--help` lists every command without hashing or
 *   inflating anything, node:v8 loads only for a cache of 200,000 refs,
 *   node:fs/promises (which brings readline and the streams) only for the
 *   few reads that use it, node:tty only when a character device may be a
 *   terminal (src/cli/stdio.ts), and node:os only when a lock is taken or
 *   hooks and statistics ask for it.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, 'dist', 'cli');
const LAZY_BUILTINS = /^node:(crypto|zlib|child_process|worker_threads|v8|fs\/promises|tty|os|timers\/promises)$/;

/**
 * Each lazy built-in becomes an ES module of functions that require the real
 * one on first call: `createHash(...)` calls the built-in's `createHash`,
 * and `new Worker(...)` constructs the built-in's `Worker`. An ES module,
 * not CommonJS with getters, because the bundle binds the importer to
 * these functions directly; a CommonJS module would be wrapped at each of
 * its twenty-odd import sites in an object with a getter for every one of
 * the built-in's names, a millisecond of every start. The names come from
 * the built-in itself, here at build time, so `import { createHash } from
 * 'node:crypto'` keeps working unchanged; only functions (and classes) are
 * offered, so an import of anything else (a constant, an object) fails the
 * build instead of loading the built-in early.
 */
async function onFirstUseModule(builtin) {
  const real = await import(builtin);
  const names = Object.keys(real).filter((name) => name !== 'default' && typeof real[name] === 'function' && /^[A-Za-z_$][\w$]*$/.test(name));
  return [
    'let loaded;',
    `const load = () => (loaded ??= require(${JSON.stringify(builtin)}));`,
    ...names.map(
      (name) =>
        `export function ${name}(...args) { return new.target === undefined ? load().${name}(...args) : Reflect.construct(load().${name}, args); }`,
    ),
  ].join('\n');
}

/** @type {import('esbuild').Plugin} */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(builder) {
    builder.onResolve({ filter: LAZY_BUILTINS }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' },
    );
    builder.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => ({ contents: await onFirstUseModule(args.path), loader: 'js' }));
  },
};

/**
 * A source module that finds files relative to itself (`import.meta.url`:
 * the package root, package.json, the verification worker) sees the URL of
 * its own per-file build under dist/src/, which tsc has just written and the
 * package ships, so those lookups answer exactly as without the bundle.
 */
/** @type {import('esbuild').Plugin} */
const perFileMetaUrl = {
  name: 'per-file-import-meta-url',
  setup(builder) {
    builder.onLoad({ filter: /[/\\]src[/\\].*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const built = join(root, 'dist', relative(root, args.path)).replace(/\.ts$/, '.js');
      const fromBundle = relative(outdir, built).split('\\').join('/');
      return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

/**
 * The web view stays out of the bundle, loaded by `serve` alone from its
 * per-file build: a bundle hoists every static import of an external package
 * to its top, and the web view's framework would load for every command.
 */
/** @type {import('esbuild').Plugin} */
const webViewOutside = {
  name: 'web-view-outside',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/\.\.\/serve\/[a-z-]+\.js$/ }, (args) => {
      const built = join(root, 'dist', relative(root, join(dirname(args.importer), args.path)));
      return { path: `./${relative(outdir, built).split('\\').join('/')}`, external: true };
    });
  },
};

/** @type {import('esbuild').Plugin} */
const packagesButCommander = {
  name: 'packages-but-commander',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || args.path === 'commander' || args.importer.includes('/node_modules/commander/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  plugins: [webViewOutside, packagesButCommander, lazyBuiltins, perFileMetaUrl],
  // Less to parse at every start; identifiers stay, and keepNames holds
  // class names (error names come from `new.target.name`) through renames.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  // The bundle's own URL, passed in by bin/cli-bundle.js; perFileMetaUrl has made every use relative to it.
  define: { 'import.meta.url': '__aeBundleUrl' },
  // No map: it would point at sources the package does not ship.
  sourcemap: false,
  metafile: true,
  write: false,
  logLevel: 'warning',
});

/**
 * Every `import()` left in the output loads a package or the web view
 * (bundled code is imported by deferred initialisers instead). Each becomes
 * a call of the host's `import()`: the count must be exactly the
 * metafile's, so no other text was rewritten, and no `import(` may be left
 * (one of a computed specifier would fail only when run).
 */
function hostImports(code, expected) {
  let replaced = 0;
  const rewritten = code.replace(/\bimport\((?=")/g, () => {
    replaced++;
    return '__aeImport(';
  });
  if (replaced !== expected) throw new Error(`build-cli: found ${replaced} dynamic imports in the bundle, the metafile lists ${expected}`);
  const left = /(?<![\w$.])import\s*\(/.exec(rewritten);
  if (left !== null) throw new Error(`build-cli: an import() the host cannot serve is left in the bundle: ${rewritten.slice(left.index, left.index + 60)}`);
  return rewritten;
}

const [output] = result.outputFiles;
const [meta] = Object.values(result.metafile.outputs);
const dynamicImports = meta.imports.filter((entry) => entry.kind === 'dynamic-import' && entry.external).length;
await mkdir(outdir, { recursive: true });
await writeFile(output.path, hostImports(output.text, dynamicImports));

// The cache is made, and then checked, with Node's default flags, as the CLI runs: V8 refuses a cache made with others.
const defaultFlags = { ...process.env, NODE_OPTIONS: '' };
const cacheWriter = spawnSync(process.execPath, [join(root, 'scripts', 'write-code-cache.cjs')], { stdio: ['ignore', 'ignore', 'inherit'], env: defaultFlags });
if (cacheWriter.status !== 0) throw new Error(`build-cli: writing the code cache failed (exit ${cacheWriter.status})`);
const loader = JSON.stringify(join(root, 'bin', 'cli-bundle.js'));
const check = spawnSync(process.execPath, ['-e', `process.exitCode = require(${loader}).compileBundle().cacheAccepted ? 0 : 3`], { stdio: ['ignore', 'ignore', 'inherit'], env: defaultFlags });
if (check.status !== 0) throw new Error(`build-cli: a fresh process did not take the code cache just written (exit ${check.status})`);
