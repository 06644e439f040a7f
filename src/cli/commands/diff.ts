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
    .description('compare two versions of a key (or two snapshots); exit 0 when equal, 1 when different, 2 on errors, 3 when not found')
    .argument('[snapshots...]', 'with --snapshots: the two snapshot ids to compare')
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

async function diffKey({ manager, out }: CommandContext, extra: string[], flags: DiffFlags): Promise<number> {
  if (flags.key === undefined) throw new UsageError('diff needs -k KEY (or --snapshots A B)');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])} (snapshot ids need --snapshots)`);
  const fromAt = flags.atA ?? flags.at;
  const toAt = flags.atB ?? flags.at;
  // Without -a, both sides in one place means "the version before --to" there.
  const from = flags.from === undefined && fromAt === toAt ? undefined : selector(flags.from, fromAt);
  const to = selector(flags.to, toAt);
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

/** `-a 3` is version 3, `-a key_2025-…Z` a full key; with a revision, read at that revision. */
function selector(version: string | undefined, at: string | undefined): VersionSelector | undefined {
  const parsed = version === undefined ? undefined : /^\d+$/.test(version) ? Number(version) : version;
  if (at === undefined) return parsed;
  return parsed === undefined ? { at } : { version: parsed, at };
}
