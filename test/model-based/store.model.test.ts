/**
 * The whole store against a model: random sequences of saves (bursts in one
 * millisecond, either side of the compression threshold, and saves started
 * together that may share a commit), loads, explicit and implicit
 * transactions, snapshots with tar export and import (into the
 * same store and a second one), garbage collection under a controllable
 * clock, reopening, a second manager on the same root, JSON backups imported
 * into the same and the other store (re-imports, older versions), and merges
 * of the second store's files into the first, as git merges two clones.
 * After every step the store and the model agree and fsck finds no error.
 *
 * `npm run test:long` (AE_STATE_LONG=1) runs many more sequences.
 */
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import {
  allCommands,
  counters,
  EndTxCommand,
  ExportCommand,
  GcCommand,
  ImportCommand,
  SaveCommand,
  setup,
  SnapshotCommand,
  teardown,
  TickCommand,
  TxSaveCommand,
  BeginTxCommand,
  BackupImportCommand,
  DeleteSnapshotCommand,
  MergeCommand,
  type Model,
  type Real,
} from './commands.js';

const LONG = process.env.AE_STATE_LONG === '1';
const NUM_RUNS = LONG ? 5000 : 300;

async function runSequence(commands: Iterable<fc.AsyncCommand<Model, Real>>): Promise<void> {
  const { model, real } = await setup();
  counters.sequences++;
  try {
    await fc.asyncModelRun(() => ({ model, real }), commands);
  } finally {
    await teardown(real);
  }
}

describe('the store against its model', () => {
  afterAll(() => {
    console.log(`model-based: ${counters.sequences} sequences, ${counters.commands} commands, ${counters.fscks} fsck runs, no disagreement`);
  });

  it(`agrees with the model after every step of ${NUM_RUNS} random sequences`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(allCommands, { maxCommands: LONG ? 40 : 20, size: 'medium' }), (commands) => runSequence(commands)),
      { numRuns: NUM_RUNS },
    );
    // About two minutes on a quiet 2-core machine; room for a busy one (a bound, not a timing assertion).
  }, 600_000);

  it('keeps a snapshot-named version through GC after maxVersions removed its ref, and re-imports it after the tag is deleted', async () => {
    const save = (n: number) => ({ key: 'data', data: { n }, phase: 'p1' });
    await runSequence([
      new SaveCommand(0, [save(1)]),
      new SnapshotCommand(0, 'p1'),
      new ExportCommand(0, 0),
      new SaveCommand(0, [save(2), save(3), save(4)]),
      new TickCommand(30_000),
      new GcCommand(0),
      new DeleteSnapshotCommand(0, 0),
      new ImportCommand(0, 0),
      new ImportCommand(2, 0),
    ]);
  });

  it('keeps merged version numbers when GC in one manager removes an older version another manager had read', async () => {
    await runSequence([
      new SaveCommand(0, [{ key: 'data', data: [] }]),
      new TickCommand(1),
      new SaveCommand(2, [{ key: 'data', data: null }]),
      new TickCommand(10_000),
      new MergeCommand(),
      new GcCommand(0),
      new SaveCommand(1, [{ key: 'data', data: 1 }, { key: 'data', data: 2 }, { key: 'data', data: 3 }]),
    ]);
  });

  it('re-imports a backup, and imports another store\'s older versions, without new versions', async () => {
    await runSequence([
      new SaveCommand(2, [{ key: 'data', data: 'b' }]),
      new TickCommand(5),
      new SaveCommand(0, [{ key: 'data', data: 'a' }]),
      new BackupImportCommand(0, 0),
      new BackupImportCommand(1, 0),
      new BackupImportCommand(0, 2),
      new BackupImportCommand(0, 2),
    ]);
  });

  it('publishes a transaction that another manager\'s GC ran through', async () => {
    await runSequence([
      new BeginTxCommand(1),
      new TxSaveCommand(1, { key: 'user_spec', data: { staged: 'x'.repeat(100) } }),
      new TickCommand(30_000),
      new GcCommand(0),
      new EndTxCommand(1, 'commit'),
    ]);
  });
});
