/**
 * Fixtures of the web view tests: a store with tricky keys, several
 * versions, snapshots and a failure whose CEGIS hook refined a key, and the
 * real `ae-state serve` running on it as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnhancedStateManager } from '../../src/index.js';
import { CLI, readAeIr } from '../helpers.js';

/** Keys whose names must come out of every page as the text they are. */
// Keys may not hold '/', so the markup is an unclosed element that would still run if it reached the page as markup.
export const SCRIPT_KEY = 'spec<img src=x onerror=window.__xss=1><script>window.__xss=1<script>';
export const QUOTE_KEY = `quote"it's'`;
export const BIDI_KEY = 'user_\u05E9\u05DC\u05D5\u05DD_abc';
export const HTML_DATA = { note: '<img src=x onerror="window.__xss=2">', bidi: 'safe\u202Etxt.exe', html: '</pre><b>bold?</b>' };

export interface FixtureStore {
  snapshots: [string, string];
  failureKey: string;
}

export async function buildFixtureStore(root: string): Promise<FixtureStore> {
  const manager = new EnhancedStateManager(root, { gcInterval: 0, awaitHooks: true });
  try {
    const spec = await readAeIr();
    const user = (spec.domain as unknown[])[0];
    const order = { name: 'Order', description: 'An order', fields: [] };
    await manager.saveSSOT('user_spec', { ...spec, domain: [user, order] }, { phase: 'phase-3', source: 'domain_modeling', tags: { reviewer: 'ana' } });
    // v2: Order moved before User (matched by name: a move) and changed, Invoice added.
    const v2 = { ...spec, domain: [{ ...order, description: 'An order, changed in v2' }, user, { name: 'Invoice', fields: [] }] };
    await manager.saveSSOT('user_spec', v2, { phase: 'phase-3', source: 'domain_modeling' });
    await manager.saveSSOT(SCRIPT_KEY, HTML_DATA, { phase: 'phase-3', source: '<b>source</b>' });
    await manager.saveSSOT(QUOTE_KEY, { quoted: `"'` }, { phase: 'phase-4' });
    await manager.saveSSOT(BIDI_KEY, { name: '\u05E9\u05DC\u05D5\u05DD' }, { phase: 'phase-4' });
    const first = await manager.createSnapshot('phase-3');
    await manager.saveSSOT(SCRIPT_KEY, { ...HTML_DATA, extra: 'v2' }, { phase: 'phase-3' });
    await manager.saveSSOT('product_spec', { name: 'Product' }, { phase: 'phase-3' });
    const second = await manager.createSnapshot('phase-3');

    await manager.installSampleHooks();
    const hooks = join(manager.storeDirectory, 'hooks');
    await copyFile(join(hooks, 'cegis-refine.sample'), join(hooks, 'failure-validation'));
    await chmod(join(hooks, 'failure-validation'), 0o755);
    const failureKey = await manager.persistFailureArtifact({
      id: 'email-unique-1',
      timestamp: new Date().toISOString(),
      phase: 'phase-4',
      type: 'validation',
      error: new Error('Domain invariant violated: <user.email> unique'),
      context: { specKey: 'user_spec', invariant: 'user.email.unique', counterexample: ['user123'] },
      artifacts: ['validation-report.json'],
      retryable: true,
      severity: 'critical',
    });
    return { snapshots: [first, second], failureKey };
  } finally {
    await manager.shutdown();
  }
}

export interface ServeProcess {
  url: string;
  origin: string;
  token: string;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `ae-state serve` on `root` and resolves once it printed its URL. */
export function startServe(root: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, '--root', root, 'serve', '--port', '0', ...extraArgs], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`ae-state serve exited (${code}): ${stderr}`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /(http:\/\/\S+)\/\?token=(\S+)/.exec(stdout);
      if (match === null) return;
      child.removeAllListeners('exit');
      resolve({
        url: `${match[1]}/?token=${match[2]}`,
        origin: match[1]!,
        token: match[2]!,
        stderr: () => stderr,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
