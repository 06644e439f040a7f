/**
 * Run records of hooks: `.ae/local/hooks/<hook name>.json` holds the last
 * runs of one hook, newest first. Local to this machine (under `local/`),
 * replaced atomically on every run. Two processes finishing a run of the same
 * hook at the same instant may drop one of the two entries, never corrupt
 * the file: the record is a log for people, not state.
 */
import { join } from 'node:path';
import { syncDirs, writeFileAtomic } from '../store/atomic-write.js';
import { readFileIfExists, type StoreFs } from '../store/fs.js';
import type { StoreLayout } from '../store/layout.js';
import type { HookRun } from './runner.js';

/** Runs kept per hook. */
export const KEPT_RUNS = 10;

export interface HookRunLog {
  format: 1;
  hook: string;
  runs: HookRun[];
}

export function hookRecordsDir(layout: StoreLayout): string {
  return join(layout.local, 'hooks');
}

/** The last runs of a hook, newest first; [] when it never ran or the file is unreadable. */
export async function readHookRuns(fs: StoreFs, layout: StoreLayout, hook: string): Promise<HookRun[]> {
  const bytes = await readFileIfExists(fs, join(hookRecordsDir(layout), `${hook}.json`));
  if (bytes === null) return [];
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as HookRunLog;
    return Array.isArray(parsed.runs) ? parsed.runs : [];
  } catch {
    // A local log that fails to parse was edited by hand; it holds no state worth refusing for.
    return [];
  }
}

/** Prepends `run` to its hook's log, keeping the newest `KEPT_RUNS`. */
export async function appendHookRun(fs: StoreFs, layout: StoreLayout, run: HookRun): Promise<void> {
  const dir = hookRecordsDir(layout);
  await fs.mkdir(dir, { recursive: true });
  await fs.mkdir(layout.tmp, { recursive: true });
  const runs = [run, ...(await readHookRuns(fs, layout, run.hook))].slice(0, KEPT_RUNS);
  const log: HookRunLog = { format: 1, hook: run.hook, runs };
  await writeFileAtomic(fs, layout.tmp, join(dir, `${run.hook}.json`), Buffer.from(`${JSON.stringify(log, null, 2)}\n`));
  await syncDirs(fs, [dir]);
}
