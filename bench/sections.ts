/** The benchmark sections, in the order `npm run bench` runs them. */
export interface BenchSection {
  name: string;
  title: string;
  run(): Promise<void>;
}

export const SECTIONS: BenchSection[] = [
  { name: 'core', title: 'Core store: save and load', run: async () => (await import('./core.js')).runCoreBench() },
  { name: 'transactions', title: 'Transactions', run: async () => (await import('./transactions.js')).runTransactionBench() },
  { name: 'retention', title: 'Retention and integrity: fsck and GC of 100,000 versions', run: async () => (await import('./retention.js')).runRetentionBench() },
  { name: 'failures', title: 'Failure artifacts and hooks', run: async () => (await import('./failures.js')).runFailuresBench() },
  { name: 'diff-git', title: 'Diffs and state alongside code in git', run: async () => (await import('./diff-git.js')).runDiffGitBench() },
  { name: 'peers', title: 'Beside SQLite and the raw loop: saves, transactions, imports and CLI start-up', run: async () => (await import('./peers.js')).runPeerBench() },
  { name: 'snapshot', title: 'Snapshot archives: export and import of 10,000 entries as tar', run: async () => (await import('./snapshot.js')).runSnapshotBench() },
  { name: 'scale', title: 'Scale: 10,000 versions against a large store (AE_BENCH_SCALE_VERSIONS, default 100,000)', run: async () => (await import('./scale.js')).runScaleBench() },
  { name: 'serve', title: 'Web view: pages on a store of 100,000 versions beside the CLI', run: async () => (await import('./serve.js')).runServeBench() },
];
