/**
 * The packed tarball as a user installs it: a CommonJS consumer (`require`,
 * and TypeScript `.cts`) and an ES module consumer (`.mts`), type-checked by
 * tsc under `moduleResolution: nodenext` and run by Node.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempProject } from '../helpers.js';
import { installPackedPackage } from '../support/packed-package.js';

const run = promisify(execFile);
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const CONSUMER = `
import { EnhancedStateManager, TransactionNotFoundError, type StorageOptions, type Transaction } from 'ae-state';

const options: StorageOptions = { gcInterval: 0, recordGitProvenance: false, enablePerformanceMetrics: true };

export async function main(root: string): Promise<string> {
  const manager = new EnhancedStateManager(root, options);
  await manager.withTransaction(async (tx: Transaction) => {
    await manager.saveSSOT('spec', { n: 1 }, { transactionId: tx });
    await manager.saveSSOT('spec', { n: 2 }, { transactionId: tx.id });
  });
  const error = await manager.commitTransaction('missing').catch((e: unknown) => e);
  const result = {
    latest: await manager.loadSSOT<{ n: number }>('spec'),
    versions: (await manager.getVersions('spec')).map((v) => v.version),
    typed: error instanceof TransactionNotFoundError,
    message: (error as Error).message,
    serialisations: manager.getPerformanceMetrics().stringifyCalls,
  };
  await manager.shutdown();
  return JSON.stringify(result);
}
`;

const EXPECTED = { latest: { n: 2 }, versions: [2, 1], typed: true, message: 'Transaction not found: missing', serialisations: 2 };

let consumer: string;

/** A project with the packed tarball installed as node_modules/ae-state. */
async function installTarball(): Promise<string> {
  // Shared by the tests of this file, so not a tempProject (those go after each test).
  const dir = await mkdtemp(join(tmpdir(), 'ae-state-consumer-'));
  await installPackedPackage(dir, dir);
  return dir;
}

describe('the packed package', () => {
  beforeAll(async () => {
    consumer = await installTarball();
  }, 120_000);

  afterAll(async () => {
    await rm(consumer, { recursive: true, force: true });
  });

  it('is required from plain CommonJS', async () => {
    const dir = join(consumer, 'plain-cjs');
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'plain', private: true, type: 'commonjs' }));
    await writeFile(
      join(dir, 'main.js'),
      `const { EnhancedStateManager } = require('ae-state');\n` +
        `const m = new EnhancedStateManager(process.argv[2], { gcInterval: 0, recordGitProvenance: false });\n` +
        `m.saveSSOT('k', { a: 1 }).then(() => m.loadSSOT('k')).then(async (v) => { console.log(JSON.stringify(v)); await m.shutdown(); });\n`,
    );
    const { stdout, stderr } = await run(process.execPath, [join(dir, 'main.js'), await tempProject()]);
    expect(JSON.parse(stdout)).toEqual({ a: 1 });
    expect(stderr).toBe('');
  });

  it.each([
    ['CommonJS (.cts)', 'commonjs', 'main.cts', 'main.cjs'],
    ['ES module (.mts)', 'module', 'main.mts', 'main.mjs'],
  ])('type-checks and runs a TypeScript %s consumer under moduleResolution nodenext', async (_name, type, source, output) => {
    const dir = join(consumer, type);
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${type}`, private: true, type }));
    await writeFile(join(dir, source), CONSUMER);
    await writeFile(
      join(dir, `run.${source.endsWith('.cts') ? 'cts' : 'mts'}`),
      `import { main } from './${output}';\nmain(process.argv[2]!).then((r) => console.log(r), (e) => { console.error(e); process.exit(1); });\n`,
    );
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, outDir: 'out', types: ['node'] } }),
    );
    await run(process.execPath, [TSC, '-p', dir]);
    const built = await readdir(join(dir, 'out'));
    expect(built).toContain(output);
    const runner = built.find((name) => name.startsWith('run.'))!;
    const { stdout, stderr } = await run(process.execPath, [join(dir, 'out', runner), await tempProject()]);
    expect(JSON.parse(stdout)).toEqual(EXPECTED);
    expect(stderr).toBe('');
  });
});
