/**
 * Files shipped with the package that hooks need: the CLI a hook calls back
 * into, and the sample hooks `init` installs. Found by walking up from this
 * module, which lives at `src/hooks/` in a checkout and at `dist/src/hooks/`
 * when built.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | null | undefined;

/** The package's root directory (the one holding `bin/ae-state.js`), or null when it cannot be found. */
export function packageRoot(): string | null {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  cachedRoot = null;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'bin', 'ae-state.js')) && existsSync(join(dir, 'package.json'))) {
      cachedRoot = dir;
      break;
    }
    dir = dirname(dir);
  }
  return cachedRoot;
}

/** Absolute path of `bin/ae-state.js`, given to hooks as `AE_STATE_CLI`. */
export function cliPath(): string | null {
  const root = packageRoot();
  return root === null ? null : join(root, 'bin', 'ae-state.js');
}

/** The package's `hooks/` folder of `*.sample` scripts. */
export function sampleHooksDir(): string | null {
  const root = packageRoot();
  return root === null ? null : join(root, 'hooks');
}
