import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { runCommand, type CommandContext } from '../context.js';
import { parseJsonInput, readInput } from '../io.js';
import { createProgress } from '../progress.js';

interface ImportFlags {
  input: string;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import a JSON backup (or original database file) or a snapshot tar, told apart by content')
    .requiredOption('-i, --input <file>', "JSON backup or snapshot tar ('-' reads standard input)")
    .option('--json', 'machine-readable output')
    .action((flags: ImportFlags, command: Command) =>
      runCommand(command, async (ctx) => {
        const head = await readHead(flags.input);
        if (isTar(head.bytes)) await importTar(ctx, flags.input, head.all);
        else await importBackup(ctx, flags.input, head.all ?? (await readInput(flags.input)));
      }),
    );
}

async function importTar({ manager, out }: CommandContext, file: string, all: Buffer | null): Promise<void> {
  const progress = createProgress(`importing ${file}`);
  try {
    const result = await manager().importSnapshot(all === null ? file : Readable.from([all]), { onProgress: progress.update });
    progress.finish();
    if (out.json) out.data({ format: 'tar', ...result });
    else out.line(`${out.green('imported')} ${result.snapshot.snapshotId} ${out.dim(`(${importSummary(result)})`)}`);
  } finally {
    progress.finish();
  }
}

async function importBackup({ manager, out }: CommandContext, file: string, bytes: Buffer): Promise<void> {
  const result = await manager().importState(await parseJsonInput(bytes, file));
  if (out.json) out.data({ format: 'json', commit: result.commit, published: result.published, present: result.present, older: result.older, skipped: result.skipped });
  else out.line(`${out.green('imported')} ${file} ${out.dim(`(${importSummary(result)})`)}`);
}

/** `N new, M already present`, and how many were skipped as older than their key's newest version, if any. */
export function importSummary(result: { published: number; present: number; older: number }): string {
  const older = result.older > 0 ? `, ${result.older} skipped as older than their key's newest version` : '';
  return `${result.published} new, ${result.present} already present${older}`;
}

/** A tar has "ustar" at offset 257 of its first header block. */
function isTar(head: Buffer): boolean {
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/** The first 512 bytes of a file; standard input is read whole (`all`), since it cannot be read twice. */
async function readHead(file: string): Promise<{ bytes: Buffer; all: Buffer | null }> {
  if (file === '-') {
    const all = await readInput('-');
    return { bytes: all.subarray(0, 512), all };
  }
  try {
    const handle = await open(file, 'r');
    try {
      const bytes = Buffer.alloc(512);
      const { bytesRead } = await handle.read(bytes, 0, 512, 0);
      return { bytes: bytes.subarray(0, bytesRead), all: null };
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file });
  }
}
