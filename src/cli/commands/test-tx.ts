import type { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnhancedStateManager } from '../../manager/EnhancedStateManager.js';
import { runCommand } from '../context.js';
import type { Output } from '../output.js';

/**
 * As in the reference: a demonstration transaction. It commits two versions,
 * then opens a second transaction and rolls it back, and checks that only the
 * first one is visible. It runs on a temporary store in the system's temp
 * directory, removed afterwards, so the user's store gets no demo keys or
 * commits.
 */
export function registerTestTx(program: Command): void {
  program
    .command('test-tx')
    .description("run a demonstration transaction (commit, then rollback) on a temporary store, and report the result; the project's store is not touched")
    .option('--json', 'machine-readable output')
    .action((_flags, command: Command) =>
      runCommand(command, async ({ out }) => {
        const scratch = await mkdtemp(join(tmpdir(), 'ae-state-test-tx-'));
        const m = new EnhancedStateManager(scratch, { awaitHooks: true, gcInterval: 0, recordGitProvenance: false });
        try {
          return await demonstrate(m, out);
        } finally {
          await m.shutdown();
          await rm(scratch, { recursive: true, force: true });
        }
      }),
    );
}

async function demonstrate(m: EnhancedStateManager, out: Output): Promise<number> {
  const stamp = new Date().toISOString();
  const committed = await m.beginTransaction();
  await m.saveSSOT('test_tx.spec1', { test: 'transaction', step: 1, stamp }, { phase: 'test', source: 'test-tx' });
  await m.saveSSOT('test_tx.spec2', { test: 'transaction', step: 2, stamp }, { phase: 'test', source: 'test-tx' });
  const keys = await m.commitTransaction(committed);

  const rolledBack = await m.beginTransaction();
  await m.saveSSOT('test_tx.spec1', { test: 'rolled back', stamp }, { phase: 'test', source: 'test-tx' });
  await m.rollbackTransaction(rolledBack);

  const spec1 = (await m.loadSSOT<{ stamp?: string; step?: number }>('test_tx.spec1')) ?? {};
  const ok = spec1.stamp === stamp && spec1.step === 1;
  const result = { ok, committed: { txId: committed, keys }, rolledBack: { txId: rolledBack, visible: !ok } };
  if (out.json) out.data(result);
  else {
    out.line(`${out.green('committed')} ${committed}: ${keys.join(', ')}`);
    out.line(`${out.yellow('rolled back')} ${rolledBack}: its save is ${ok ? 'not visible' : 'VISIBLE'}`);
    out.line(ok ? out.green('transaction test passed') : out.red('transaction test FAILED'));
  }
  return ok ? 0 : 1;
}
