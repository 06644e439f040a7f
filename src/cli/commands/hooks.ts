import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import type { HookRun } from '../../hooks/runner.js';
import { runCommand } from '../context.js';
import { EXIT_ERROR } from '../exit-codes.js';
import { parseJsonInput, readInput } from '../io.js';
import { table, type Output } from '../output.js';
import { stderr, stdout } from '../stdio.js';

export function registerHooks(program: Command): void {
  const hooks = program
    .command('hooks')
    .description(
      'list the hook scripts in .ae/hooks/, whether each is trusted on this machine, and their last runs; "hooks trust NAME" approves one, "hooks run NAME" runs one',
    )
    .option('--json', 'machine-readable output')
    .action((_flags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const list = await manager().listHooks();
        if (out.json) {
          out.data(list);
          return;
        }
        if (list.length === 0) {
          out.line('no hooks installed (run "ae-state init" to install the samples)');
          return;
        }
        table(
          out,
          ['HOOK', 'STATUS', 'LAST RUN', 'RESULT'],
          list.map((h) => [
            h.name,
            !h.active ? out.dim(h.reason ?? 'inactive') : h.trusted ? out.green('active') : out.red('untrusted'),
            h.lastRun?.startedAt ?? '-',
            h.lastRun ? resultOf(h.lastRun) : '-',
          ]),
        );
      }),
    );
  hooks
    .command('trust')
    .description(
      'approve a hook as its file is now, on this machine only (recorded in .git/ or the per-user config folder, never in the store); only trusted hooks run, and a changed hook must be trusted again',
    )
    .argument('<name>', 'hook file name in .ae/hooks/, e.g. post-commit')
    .option('--json', 'machine-readable output')
    .action((name: string, _flags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const result = await manager().trustHook(name);
        if (out.json) out.data(result);
        else out.line(`trusted hook ${result.hook} (sha256 ${result.sha256.slice(0, 12)}…), recorded in ${result.trustFile}`);
      }),
    );
  hooks
    .command('run')
    .description('run one trusted hook now with an event read from a JSON file, and record the run')
    .argument('<name>', 'hook file name in .ae/hooks/, e.g. failure or post-commit')
    .option('--event <file>', "event JSON given to the hook on stdin ('-' reads standard input)")
    .option('--json', 'machine-readable output')
    .action((name: string, flags: { event?: string }, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const event = flags.event === undefined ? {} : await parseJsonInput(await readInput(flags.event), flags.event);
        if (event === null || typeof event !== 'object' || Array.isArray(event)) {
          throw new InvalidArgumentError(`${flags.event} must hold a JSON object`, { file: flags.event });
        }
        const run = await manager().runHook(name, event as Record<string, unknown>);
        if (out.json) out.data(run);
        else {
          if (run.stdoutTail) stdout.write(run.stdoutTail.endsWith('\n') ? run.stdoutTail : `${run.stdoutTail}\n`);
          if (run.stderrTail) stderr.write(run.stderrTail.endsWith('\n') ? run.stderrTail : `${run.stderrTail}\n`);
          stderr.write(`${describeHookRun(out, run)}\n`);
        }
        return run.ok ? 0 : EXIT_ERROR;
      }),
    );
}

/** One line about a finished hook run. */
export function describeHookRun(out: Output, run: HookRun): string {
  const result = resultOf(run);
  return `hook ${run.hook}: ${run.ok ? out.green(result) : out.red(result)} ${out.dim(`(${run.durationMs} ms)`)}`;
}

function resultOf(run: HookRun): string {
  if (run.timedOut) return 'killed at timeout';
  if (run.error !== undefined) return `could not start: ${run.error}`;
  if (run.signal !== null) return `killed by ${run.signal}`;
  return `exit ${run.exitCode}`;
}
