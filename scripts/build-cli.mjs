/**
 * Bundles the CLI into dist/cli/ after `tsc` has checked the sources: one
 * module to read, compile and link at start instead of some forty, which is
 * what every hook script calling `ae-state load` pays for.
 *
 * What stays lazy:
 * - each command, and the store behind it: a dynamic `import()` of bundled
 *   code becomes a deferred initialiser in the bundle, run when the command
 *   is chosen;
 * - the heavy packages (isomorphic-git, tar-stream, jsondiffpatch,
 *   fast-glob): external, loaded from node_modules by the dynamic imports
 *   that already defer them;
 * - node:crypto, node:zlib, node:child_process and node:worker_threads: a
 *   bundle hoists every `import` of a built-in to its top, so these are
 *   turned into `require` calls that run with the module that needs them.
 *   commander is bundled (every command parses with it) and requires
 *   child_process at load only to spawn executable subcommands, which this
 *   CLI has none of, so it gets a view that loads the module on first use.
 */
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, 'dist', 'cli');
const LAZY_BUILTINS = /^node:(crypto|zlib|child_process|worker_threads)$/;

/** @type {import('esbuild').Plugin} */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(builder) {
    builder.onResolve({ filter: LAZY_BUILTINS }, (args) => {
      if (args.namespace.startsWith('lazy-builtin')) return { path: args.path, external: true };
      // Two namespaces, so commander's view and everyone else's module stay two modules.
      const onFirstUse = args.importer.includes('/node_modules/commander/');
      return { path: args.path, namespace: onFirstUse ? 'lazy-builtin-on-first-use' : 'lazy-builtin' };
    });
    builder.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    builder.onLoad({ filter: /.*/, namespace: 'lazy-builtin-on-first-use' }, (args) => ({
      contents: `module.exports = new Proxy({}, { get: (_, key) => require(${JSON.stringify(args.path)})[key] });`,
      loader: 'js',
    }));
  },
};

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // The verification worker is started by URL next to the module that
  // starts it, so it is an entry of its own in the same folder.
  entryPoints: { 'main': 'src/cli/main.ts', 'object-verify-worker': 'src/store/object-verify-worker.ts' },
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['isomorphic-git', 'isomorphic-git/*', 'tar-stream', 'jsondiffpatch', 'jsondiffpatch/*', 'fast-glob'],
  plugins: [lazyBuiltins],
  // Less to parse at every start; identifiers stay, and keepNames holds
  // class names (error names come from `new.target.name`) through renames.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  // commander is CommonJS and the built-ins above are required: give the bundle a real require.
  banner: { js: "import { createRequire as __aeCreateRequire } from 'node:module'; const require = __aeCreateRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
});
