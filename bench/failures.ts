/**
 * Failure artifacts and hooks: what persisting a failure costs over a plain
 * save of the same document (the raw reference, measured in the same run),
 * and what a hook costs per event: dispatch with no hook installed, and
 * spawning a trivial hook script that is awaited.
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnhancedStateManager } from '../src/index.js';
import { toFailureDocument } from '../src/model/failures.js';
import type { FailureArtifact } from '../src/model/types.js';
import { benchDir, fmt, printTable, ratio } from './fixtures.js';

const FAILURES = 150;
const HOOKED = 40;

function artifact(i: number): FailureArtifact {
  return {
    id: `validation_failure_${i}`,
    timestamp: new Date().toISOString(),
    phase: 'phase-4',
    type: 'validation',
    error: new Error('Domain invariant violated', { cause: Object.assign(new Error('duplicate email'), { code: 'E_DUP' }) }),
    context: { invariant: 'user.email.unique', violatingRecords: [`user${i}`, `user${i + 1}`] },
    artifacts: ['validation-report.json', 'error-log.txt'],
    retryable: true,
    severity: 'high',
  };
}

async function timePerCall(count: number, work: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) await work(i);
  return (performance.now() - start) / count;
}

export async function runFailuresBench(): Promise<void> {
  const root = await benchDir('failures');
  // maxVersions high enough that retention does not run inside the measured loops.
  const options = { gcInterval: 0, maxVersions: 10_000 };
  const plain = new EnhancedStateManager(join(root, 'plain'), options);
  await plain.initialize();
  const saveMs = await timePerCall(FAILURES, (i) => plain.saveSSOT('failure_phase-4', toFailureDocument(artifact(i)), { phase: 'phase-4' }));
  await plain.shutdown();

  const noHooks = new EnhancedStateManager(join(root, 'no-hooks'), { ...options, awaitHooks: true });
  await noHooks.initialize();
  const persistMs = await timePerCall(FAILURES, (i) => noHooks.persistFailureArtifact(artifact(i)));
  await noHooks.shutdown();

  const hookedRoot = join(root, 'hooked');
  await mkdir(join(hookedRoot, '.ae', 'hooks'), { recursive: true });
  await writeFile(join(hookedRoot, '.ae', 'hooks', 'failure'), '#!/bin/sh\ncat > /dev/null\n');
  await chmod(join(hookedRoot, '.ae', 'hooks', 'failure'), 0o755);
  const hooked = new EnhancedStateManager(hookedRoot, { ...options, awaitHooks: true });
  await hooked.initialize();
  const hookedMs = await timePerCall(HOOKED, (i) => hooked.persistFailureArtifact(artifact(i)));
  await hooked.shutdown();

  const listing = new EnhancedStateManager(join(root, 'no-hooks'), options);
  const listMs = await timePerCall(5, () => listing.listFailures({ severity: 'high' }));
  await listing.shutdown();
  await rm(root, { recursive: true, force: true });

  printTable(
    ['operation', 'ms per call', 'vs saveSSOT of the same document'],
    [
      ['saveSSOT (raw reference)', fmt(saveMs), ratio(1)],
      ['persistFailureArtifact, no hook installed', fmt(persistMs), ratio(persistMs / saveMs)],
      ['persistFailureArtifact, awaited `failure` hook (/bin/sh)', fmt(hookedMs), ratio(hookedMs / saveMs)],
      [`listFailures over ${FAILURES} failures`, fmt(listMs), ratio(listMs / saveMs)],
    ],
  );
}
