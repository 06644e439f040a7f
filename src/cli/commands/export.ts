import type { Command } from 'commander';
import { UsageError } from '../exit-codes.js';
import { runCommand } from '../context.js';
import { stringifyBackup } from '../../model/legacy-values.js';
import { isAeStateError } from '../../errors.js';
import { writeFailure, writeOutput } from '../io.js';
import { formatBytes } from '../output.js';
import { createActivity, createProgress } from '../progress.js';
import { stderr, stdout } from '../stdio.js';

interface ExportFlags {
  output: string;
  snapshot?: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("write a JSON backup of every version, or with --snapshot a snapshot's tar")
    .requiredOption('-o, --output <file>', "output file ('-' writes to standard output); a .tar name needs --snapshot")
    .option('-s, --snapshot <id>', 'export this snapshot as a tar instead of a JSON backup')
    .option('--json', 'machine-readable summary')
    .action((flags: ExportFlags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const m = manager();
        if (flags.snapshot === undefined) {
          if (/\.tar$/i.test(flags.output)) throw new UsageError(`exporting ${flags.output} as a tar needs --snapshot <id> (see "snapshots")`);
          const activity = createActivity(`exporting to ${flags.output}`);
          let entryCount: number;
          try {
            const state = await m.exportState();
            await writeOutput(flags.output, Buffer.from(`${stringifyBackup(state)}\n`));
            entryCount = state.entries.length;
          } finally {
            activity.finish();
          }
          report(out, flags.output, { format: 'json', entryCount });
          return;
        }
        const progress = createProgress(`exporting ${flags.snapshot}`);
        let result;
        const target = flags.output === '-' ? stdout.stream() : flags.output;
        try {
          result = await m.exportSnapshot(flags.snapshot, target, { onProgress: progress.update });
        } catch (error) {
          // A failed write names the user's file, not the temporary file beside it.
          throw typeof target === 'string' && !isAeStateError(error) && typeof (error as NodeJS.ErrnoException).code === 'string'
            ? writeFailure(target, error)
            : error;
        } finally {
          // Cleared before the summary, so the two never share a line.
          progress.finish();
        }
        report(out, flags.output, { format: 'tar', ...result });
      }),
    );
}

function report(out: { json: boolean; data(v: unknown): void }, file: string, summary: { format: string; entryCount: number; bytes?: number }): void {
  // With '-' standard output carries the export itself; the summary goes to stderr.
  if (out.json && file !== '-') out.data({ output: file, ...summary });
  else if (!out.json) stderr.write(`exported ${summary.entryCount} entries to ${file}${summary.bytes === undefined ? '' : ` (${formatBytes(summary.bytes)})`}\n`);
}
