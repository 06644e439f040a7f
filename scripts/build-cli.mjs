/**
 * Bundles the CLI into dist/cli/ after `tsc` has checked the sources: one
 * entry module instead of some forty files to resolve and link at every
 * start, which is what a hook script calling `ae-state load` pays for.
 * Commands stay lazily loaded (code splitting keeps each `import()` a chunk
 * of its own), and the heavy packages (isomorphic-git, tar-stream,
 * jsondiffpatch, fast-glob) stay external, loaded from node_modules by the
 * dynamic imports that already defer them. commander is bundled: it is small
 * and every command parses with it.
 */
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, 'dist', 'cli');

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // The verification worker is started by URL next to the module that starts
  // it, so it is an entry of its own, and chunks share its folder.
  entryPoints: { 'main': 'src/cli/main.ts', 'object-verify-worker': 'src/store/object-verify-worker.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '[name]-[hash]',
  external: ['isomorphic-git', 'isomorphic-git/*', 'tar-stream', 'jsondiffpatch', 'jsondiffpatch/*', 'fast-glob'],
  // commander is CommonJS; its require() of Node built-ins needs a real require.
  banner: { js: "import { createRequire as __aeCreateRequire } from 'node:module'; const require = __aeCreateRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
});
