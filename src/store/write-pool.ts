/**
 * A bounded window of writes in flight: imports hand each object write to the
 * pool and go on reading the next entry, so the disk and the parser work at
 * the same time, while at most `limit` entries are held in memory.
 */
export class WritePool {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly limit: number) {}

  /** Starts `work`; waits first while `limit` writes are in flight. Rejects with the first failure seen. */
  async add(work: () => Promise<void>): Promise<void> {
    while (this.pending.size >= this.limit) await Promise.race(this.pending);
    const running: Promise<void> = work().then(() => {
      this.pending.delete(running);
    });
    // Failures surface through add() or drain(); this only keeps them from being reported as unhandled.
    running.catch(() => undefined);
    this.pending.add(running);
  }

  /** Waits for every write; rejects with the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Waits for every write to finish, failed or not; for cleaning up after a failure. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pending);
  }
}

/**
 * How many files the store keeps open at once in one batch of small-file
 * I/O. A commit of 10,000 versions must not open 10,000 files at once: that
 * fails with EMFILE under common descriptor limits (1024).
 */
export const FILE_CONCURRENCY = 128;

/** `Promise.all(items.map(work))` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: Iterable<T>, limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const list = [...items];
  const results = new Array<R>(list.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      results[i] = await work(list[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, worker));
  return results;
}
