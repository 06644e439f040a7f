import type { Command } from 'commander';
import { FAILURE_SEVERITIES, FAILURE_TYPES } from '../../model/failures.js';
import type { FailureArtifact, FailureSeverity, FailureType } from '../../model/types.js';
import type { HookRun } from '../../hooks/runner.js';
import { runCommand } from '../context.js';
import { oneOf, parseJsonObject } from '../failure-flags.js';
import { describeHookRun } from './hooks.js';
import { parsePhase } from './options.js';

interface SimulateFlags {
  phase: string;
  type: FailureType;
  message: string;
  severity: FailureSeverity;
  retryable?: boolean;
  context?: Record<string, unknown>;
  artifacts?: string[];
}

export function registerSimulateFailure(program: Command): void {
  program
    .command('simulate-failure')
    .description('store a failure artifact as a CEGIS trigger and run the failure hooks')
    .requiredOption('-p, --phase <phase>', 'phase that failed, e.g. phase-4', parsePhase)
    .requiredOption('-t, --type <type>', `failure type: ${FAILURE_TYPES.join(', ')}`, oneOf(FAILURE_TYPES))
    .option('-m, --message <message>', 'error message', 'Simulated failure')
    .option('-s, --severity <severity>', `severity: ${FAILURE_SEVERITIES.join(', ')}`, oneOf(FAILURE_SEVERITIES), 'medium')
    .option('--retryable', 'mark the failure as retryable', false)
    .option('--context <json>', 'context as a JSON object, e.g. \'{"specKey":"user_spec","invariant":"user.email.unique"}\'', parseJsonObject)
    .option('--artifacts <list>', 'comma-separated names of related artifact files', (v: string) => v.split(',').filter(Boolean))
    .option('--json', 'machine-readable output')
    .action((flags: SimulateFlags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const m = manager();
        const runs: HookRun[] = [];
        const collect = (run: HookRun) => runs.push(run);
        m.on('hookCompleted', collect).on('hookFailed', collect);
        const timestamp = new Date().toISOString();
        const artifact: FailureArtifact = {
          id: `${flags.type}_failure_${Date.now()}`,
          timestamp,
          phase: flags.phase,
          type: flags.type,
          error: new Error(flags.message),
          context: { simulated: true, ...(flags.context ?? {}) },
          artifacts: flags.artifacts ?? [],
          retryable: flags.retryable === true,
          severity: flags.severity,
        };
        const key = await m.persistFailureArtifact(artifact);
        if (out.json) {
          out.data({ key, id: artifact.id, phase: artifact.phase, type: artifact.type, severity: artifact.severity, retryable: artifact.retryable, hooks: runs });
          return;
        }
        out.line(`${out.yellow('failure stored')} ${key} ${out.dim(`(${artifact.type}, ${artifact.severity}${artifact.retryable ? ', retryable' : ''})`)}`);
        out.line(`CEGIS trigger emitted: failureArtifactPersisted, failure_${artifact.type}, failure_${artifact.phase}`);
        for (const run of runs) {
          out.line(describeHookRun(out, run));
          // What the hook said, so a CEGIS step is visible where it was triggered.
          for (const line of `${run.stdoutTail}${run.stderrTail}`.split('\n').filter(Boolean)) out.line(out.dim(`  | ${line}`));
        }
      }),
    );
}
