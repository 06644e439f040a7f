import { isAbsolute, relative, sep } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { AddFilesResult } from '../../manager/add-files.js';
import { parseKeySource } from '../../model/file-keys.js';
import { runCommand } from '../context.js';
import type { Output } from '../output.js';
import { parsePhase } from './options.js';

interface AddFlags {
  keyFrom?: string;
  phase?: string;
  dryRun?: boolean;
}

export function registerAdd(program: Command): void {
  program
    .command('add')
    .description('save JSON files found by glob patterns as the next versions of their keys, in one commit; unchanged files are not saved again')
    .argument('<patterns...>', 'glob patterns relative to the current directory, e.g. "specs/**/*.json" (quote them)')
    .option('--key-from <source>', '"path": specs/domain/user.json is the key specs.domain.user; "field:NAME": the string field NAME of each document', parseKeyFrom, 'path')
    .option('-p, --phase <phase>', 'phase recorded with every saved version', parsePhase)
    .option('-n, --dry-run', 'show what would be saved, and save nothing')
    .option('--json', 'machine-readable output')
    .action((patterns: string[], flags: AddFlags, command: Command) =>
      runCommand(command, async ({ manager, out, root }) => {
        const cwd = process.cwd();
        const result = await manager().addFiles(patterns, {
          // Patterns are relative to where the user is, when that is inside the project.
          cwd: isInside(root, cwd) ? cwd : root,
          keyFrom: flags.keyFrom,
          phase: flags.phase,
          dryRun: flags.dryRun === true,
        });
        if (out.json) out.data({ dryRun: flags.dryRun === true, ...result });
        else printAdd(out, result, flags.dryRun === true);
      }),
    );
}

/** Checked while parsing, so a mistyped `--key-from` is a usage error like any bad flag value. */
function parseKeyFrom(value: string): string {
  try {
    parseKeySource(value);
  } catch {
    throw new InvalidArgumentError('must be "path" or "field:NAME"');
  }
  return value;
}

function isInside(root: string, dir: string): boolean {
  const rel = relative(root, dir);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function printAdd(out: Output, result: AddFilesResult, dryRun: boolean): void {
  for (const file of result.files) {
    if (file.status === 'saved') out.line(`${out.green('saved')}     ${file.file} → ${file.key} ${out.dim(`(version ${file.version})`)}`);
    else if (file.status === 'changed') out.line(`${out.yellow('would save')} ${file.file} → ${file.key}`);
    else out.line(`${out.dim('unchanged')} ${file.file} → ${file.key} ${out.dim(`(version ${file.version})`)}`);
  }
  for (const link of result.skippedLinks) out.line(`${out.dim('skipped')}   ${link} (a symbolic link; add does not follow links)`);
  for (const cleanup of result.cleanups) {
    out.line(out.dim(`${cleanup.logicalKey}: removed ${cleanup.deletedVersions.map((v) => `v${v}`).join(', ')} (maxVersions ${cleanup.maxVersions})`));
  }
  const changed = result.files.filter((f) => f.status !== 'unchanged').length;
  const unchanged = result.files.length - changed;
  out.line(dryRun ? `${changed} file(s) would be saved, ${unchanged} unchanged (dry run: nothing saved)` : `${changed} saved, ${unchanged} unchanged`);
}
