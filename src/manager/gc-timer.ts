/**
 * Runs garbage collection every `gcInterval` seconds while a manager is open.
 * The timer is unref'd, so an open manager never keeps a process alive; a
 * tick that finds the previous collection still running is skipped, so runs
 * never overlap (and each run takes the store's write lock, so it never
 * overlaps a commit either). A failed run is reported as a
 * `garbageCollectionFailed {error}` event and the timer keeps going.
 */
import type { StoreContext } from './context.js';

export class GcTimer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  // Once stopped, an initialize() that resolves late must not restart it.
  private stopped = false;

  constructor(private readonly ctx: StoreContext) {}

  /** Starts the timer unless `gcInterval` is 0 or it is running already. */
  start(): void {
    const seconds = this.ctx.options.gcInterval;
    if (seconds <= 0 || this.timer !== null || this.stopped) return;
    this.timer = setInterval(() => this.tick(), seconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer for good; a collection in progress finishes on its own. */
  halt(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stops the timer and waits for a collection in progress to finish. */
  async stop(): Promise<void> {
    this.halt();
    await this.running;
  }

  private tick(): void {
    if (this.running !== null) return;
    this.running = import('./retention.js')
      .then(({ runGarbageCollection }) => runGarbageCollection(this.ctx))
      .then(
        () => undefined,
        (error: unknown) => {
          this.ctx.events.emit('garbageCollectionFailed', { error });
        },
      )
      .finally(() => {
        this.running = null;
      });
  }
}
