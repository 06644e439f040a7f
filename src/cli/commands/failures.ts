import type { Command } from 'commander';
import { FAILURE_SEVERITIES, FAILURE_TYPES } from '../../model/failures.js';
import type { FailureSeverity, FailureType } from '../../model/types.js';
import { runCommand } from '../context.js';
import { oneOf, parseIsoTime } from '../failure-flags.js';
import { table } from '../output.js';
import { parsePhase, parsePositiveInteger } from './options.js';

interface FailuresFlags {
  phase?: string;
  type?: FailureType;
  severity?: FailureSeverity;
  retryable?: boolean;
  since?: string;
  limit?: number;
}

export function registerFailures(program: Command): void {
  program
    .command('failures')
    .description('list stored failure artifacts, newest first')
    .option('-p, --phase <phase>', 'only this phase', parsePhase)
    .option('-t, --type <type>', `only this type: ${FAILURE_TYPES.join(', ')}`, oneOf(FAILURE_TYPES))
    .option('-s, --severity <severity>', `only this severity: ${FAILURE_SEVERITIES.join(', ')}`, oneOf(FAILURE_SEVERITIES))
    .option('--retryable', 'only retryable failures')
    .option('--no-retryable', 'only failures that are not retryable')
    .option('--since <time>', 'only failures at or after this ISO time', parseIsoTime)
    .option('-n, --limit <n>', 'show at most n failures', parsePositiveInteger)
    .option('--json', 'machine-readable output (each failure as stored)')
    .action((flags: FailuresFlags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const { phase, type, severity, retryable, since } = flags;
        const failures = (await manager().listFailures({ phase, type, severity, retryable, since })).slice(0, flags.limit);
        if (out.json) {
          out.data(failures.map((f) => ({ key: f.key, logicalKey: f.logicalKey, version: f.version, storedAt: f.storedAt, artifact: f.document })));
          return;
        }
        if (failures.length === 0) {
          out.line('no failures stored' + (phase || type || severity || retryable !== undefined || since ? ' that match' : ''));
          return;
        }
        table(
          out,
          ['TIME', 'PHASE', 'TYPE', 'SEVERITY', 'RETRY', 'VERSION', 'MESSAGE'],
          failures.map((f) => [
            f.document.timestamp,
            f.document.phase,
            f.document.type,
            f.document.severity,
            f.document.retryable ? 'yes' : 'no',
            String(f.version),
            oneLine(f.document.error.message),
          ]),
        );
      }),
    );
}

/** Messages can hold newlines and terminal escapes; a table row shows them escaped and cut. */
function oneLine(message: string): string {
  const text = JSON.stringify(String(message)).slice(1, -1);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
