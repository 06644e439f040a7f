import type { Command } from 'commander';
import type { VersionSelector } from '../../manager/revisions.js';
import { runCommand, type CommandContext } from '../context.js';
import { printSnapshotDiff, printVersionDiff } from '../diff-output.js';
import { exitCodeFor, EXIT_NOT_FOUND, EXIT_USAGE, UsageError } from '../exit-codes.js';
import { isAeStateError } from '../../errors.js';

interface DiffFlags {
  key?: string;
  from?: string;
  to?: string;
  at?: string;
  atA?: string;
  atB?: string;
  snapshots?: boolean;
}

// As diff(1) and `git diff --exit-code`: 0 equal, 1 different, 2 trouble.
const EXIT_EQUAL = 0;
const EXIT_DIFFERENT = 1;

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare two versions of a key (or two snapshots); exit 0 when equal, 1 when different, 2 on errors, 3 when not found, 4 when there is no store')
    .argument('[versions...]', 'FROM and TO versions (numbers or full keys), as -a and -b; with --snapshots the two snapshot ids')
    .option('-k, --key <key>', 'logical key')
    .option('-a, --from <version>', 'version number or full key to compare from (default: the version before --to)')
    .option('-b, --to <version>', 'version number or full key to compare to (default: the newest)')
    .option('--at <rev>', "read both sides from the store as committed at this git revision of the project (branch, tag, commit, HEAD~N)")
    .option('--at-a <rev>', 'read the --from side at this git revision')
    .option('--at-b <rev>', 'read the --to side at this git revision')
    .option('--snapshots', 'compare two snapshots: diff --snapshots A B')
    .option('--json', 'print the RFC 6902 patch and a summary as JSON')
    .action((snapshotIds: string[], flags: DiffFlags, command: Command) =>
      runCommand(
        command,
        (ctx) => (flags.snapshots ? diffSnapshots(ctx, snapshotIds, flags) : diffKey(ctx, snapshotIds, flags)),
        { exitCodeFor: diffExitCodeFor },
      ),
    );
}

/** diff's own statuses: errors are 2 (1 means "different"); not found and no store keep theirs. */
function diffExitCodeFor(error: unknown): number {
  const code = exitCodeFor(error);
  return isAeStateError(error) && error.code === 'NOT_FOUND' ? EXIT_NOT_FOUND : code === 1 ? EXIT_USAGE : code;
}

async function diffKey({ manager, out }: CommandContext, positional: string[], flags: DiffFlags): Promise<number> {
  if (flags.key === undefined) throw new UsageError('diff needs -k KEY (or --snapshots A B)');
  const versions = versionsOf(positional, flags);
  if (flags.at !== undefined && (flags.atA !== undefined || flags.atB !== undefined)) {
    throw new UsageError('--at reads both sides at one revision; use it alone, or --at-a and --at-b');
  }
  const fromAt = flags.atA ?? flags.at;
  const toAt = flags.atB ?? flags.at;
  // Without -a, both sides in one place means "the version before --to" there.
  const from = versions.from === undefined && fromAt === toAt ? undefined : selector(versions.from, fromAt);
  const to = selector(versions.to, toAt);
  const diff = await manager().diff(flags.key, from, to);
  if (out.json) {
    const { changes: _changes, ...result } = diff;
    out.data(result);
  } else {
    printVersionDiff(out, diff);
  }
  return diff.equal ? EXIT_EQUAL : EXIT_DIFFERENT;
}

async function diffSnapshots({ manager, out }: CommandContext, ids: string[], flags: DiffFlags): Promise<number> {
  if (ids.length !== 2) throw new UsageError(`diff --snapshots needs exactly two snapshot ids (got ${ids.length})`);
  if (flags.key !== undefined || flags.from !== undefined || flags.to !== undefined || flags.at || flags.atA || flags.atB) {
    throw new UsageError('diff --snapshots takes no -k, -a, -b or --at options');
  }
  const diff = await manager().diffSnapshots(ids[0]!, ids[1]!);
  if (out.json) out.data({ ...diff, changed: diff.changed.map(({ changes: _changes, ...rest }) => rest) });
  else printSnapshotDiff(out, diff);
  return diff.equal ? EXIT_EQUAL : EXIT_DIFFERENT;
}

/** `diff -k K 1 3` is `diff -k K -a 1 -b 3`; one positional version is FROM. Both spellings at once are refused. */
function versionsOf(positional: string[], flags: DiffFlags): { from?: string; to?: string } {
  if (positional.length === 0) return { from: flags.from, to: flags.to };
  if (positional.length > 2) throw new UsageError(`diff takes at most two versions (got ${positional.length}); snapshot ids need --snapshots`);
  if (flags.from !== undefined || flags.to !== undefined) throw new UsageError('give the versions as arguments or with -a/-b, not both');
  return { from: positional[0], to: positional[1] };
}

/** `-a 3` is version 3, `-a key_2025-…Z` a full key; with a revision, read at that revision. */
function selector(version: string | undefined, at: string | undefined): VersionSelector | undefined {
  const parsed = version === undefined ? undefined : /^\d+$/.test(version) ? Number(version) : version;
  if (at === undefined) return parsed;
  return parsed === undefined ? { at } : { version: parsed, at };
}
