/** The package's version, read from its package.json (one file read, only when asked). */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  // dist/src/cli/version.js → the package root is three levels up.
  const manifest = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
