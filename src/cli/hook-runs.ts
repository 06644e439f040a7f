/**
 * Which hooks a command's work ran, for its summary. The manager reports
 * each run as an event; `shutdown` waits for running hooks, so a command
 * shuts the manager down before printing what they did.
 */
import type { EnhancedStateManager } from '../manager/EnhancedStateManager.js';
import type { HookRun } from '../hooks/runner.js';
import type { Output } from './output.js';

export interface HookRunLog {
  runs: HookRun[];
  /** Waits for hooks still running (by shutting the manager down) and returns every run. */
  settle(): Promise<HookRun[]>;
}

export function recordHookRuns(manager: EnhancedStateManager): HookRunLog {
  const runs: HookRun[] = [];
  const record = (run: HookRun) => runs.push(run);
  manager.on('hookCompleted', record);
  manager.on('hookFailed', (run: HookRun | { hook: string; error: string }) => {
    if ('durationMs' in run) record(run);
  });
  return {
    runs,
    async settle() {
      await manager.shutdown();
      return runs;
    },
  };
}

export function printHookRuns(out: Output, runs: readonly HookRun[]): void {
  if (runs.length === 0) {
    out.line(out.dim('  hooks run                 none'));
    return;
  }
  for (const run of runs) {
    const status = run.ok ? out.green(`exit ${run.exitCode}`) : out.red(describeFailure(run));
    out.line(`  hook ${run.hook}: ${status} (${run.durationMs} ms)`);
  }
}

function describeFailure(run: HookRun): string {
  if (run.timedOut) return 'timed out';
  if (run.error) return `could not start (${run.error})`;
  if (run.signal) return `killed by ${run.signal}`;
  return `exit ${run.exitCode}`;
}
