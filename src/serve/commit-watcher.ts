/**
 * Notices commits made by any process. A commit becomes visible when its file
 * is renamed into `commits/` (see store/commits.ts), and a `git pull` of the
 * store adds files there too, so watching that one directory sees every new
 * commit. Writers that change refs without a commit (gc, the `maxVersions`
 * cleanup, fsck repairs) all hold the lock file `local/lock`, so its
 * creation and removal are reported as `write`. `fs.watch` is inotify on
 * Linux (FSEvents, ReadDirectoryChangesW elsewhere): nothing runs while the
 * store is idle.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { EventEmitter } from 'node:events';
import { isCommitId } from '../model/records.js';

export interface CommitNotice {
  /** The commit file's id (its name without `.json`). */
  commitId: string;
}

/** A transaction's burst of events reaches listeners once. */
const SETTLE_MS = 30;

export class CommitWatcher extends EventEmitter<{ commit: [CommitNotice]; write: []; error: [Error] }> {
  private watcher: FSWatcher | null = null;
  private lockWatcher: FSWatcher | null = null;
  private settling: NodeJS.Timeout | null = null;
  private newest: string | null = null;

  constructor(
    private readonly commitsDir: string,
    private readonly lockFile: string,
  ) {
    super();
    this.setMaxListeners(0);
  }

  start(): void {
    if (this.watcher !== null) return;
    this.watcher = watch(this.commitsDir, { persistent: false }, (_event, file) => this.onChange(file));
    this.watcher.on('error', (error) => this.emit('error', error));
    const lockName = basename(this.lockFile);
    this.lockWatcher = watch(dirname(this.lockFile), { persistent: false }, (_event, file) => {
      if (file !== null && String(file) === lockName) this.emit('write');
    });
    this.lockWatcher.on('error', (error) => this.emit('error', error));
  }

  stop(): void {
    this.watcher?.close();
    this.lockWatcher?.close();
    this.watcher = null;
    this.lockWatcher = null;
    if (this.settling !== null) clearTimeout(this.settling);
    this.settling = null;
  }

  private onChange(file: string | Buffer | null): void {
    const name = file === null ? '' : String(file);
    const commitId = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
    if (!isCommitId(commitId)) return;
    if (this.newest === null || commitId > this.newest) this.newest = commitId;
    if (this.settling !== null) return;
    this.settling = setTimeout(() => {
      this.settling = null;
      this.emit('commit', { commitId: this.newest! });
    }, SETTLE_MS);
  }
}
