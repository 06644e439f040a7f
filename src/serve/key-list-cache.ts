/**
 * The keys page lists every key, which costs a pass over all key
 * directories; the list changes only when some process writes, so it is kept
 * between writes and dropped on every commit or lock-file event of the store.
 */
import type { EnhancedStateManager } from '../manager/EnhancedStateManager.js';
import type { KeySummary } from '../manager/key-summaries.js';
import type { CommitWatcher } from './commit-watcher.js';

export class KeyListCache {
  private cached: Promise<KeySummary[]> | null = null;
  // A write during a listing makes that listing stale before it is done.
  private generation = 0;

  constructor(
    private readonly manager: EnhancedStateManager,
    watcher: CommitWatcher,
  ) {
    const invalidate = () => this.invalidate();
    watcher.on('commit', invalidate);
    watcher.on('write', invalidate);
  }

  list(): Promise<KeySummary[]> {
    if (this.cached !== null) return this.cached;
    const generation = this.generation;
    const listing = this.manager.listKeys();
    this.cached = listing;
    listing.then(
      () => {
        if (generation !== this.generation && this.cached === listing) this.cached = null;
      },
      () => {
        if (this.cached === listing) this.cached = null;
      },
    );
    return listing;
  }

  invalidate(): void {
    this.generation++;
    this.cached = null;
  }
}
