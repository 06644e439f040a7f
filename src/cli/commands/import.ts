import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { runCommand, type CommandContext } from '../context.js';
import { inputName, parseJsonInput, readFailure, readInput } from '../io.js';
import { createActivity, createProgress } from '../progress.js';

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
        else if (looksLikeJson(head.bytes)) await importBackup(ctx, flags.input, head.all ?? (await readInput(flags.input)));
        else throw notImportable(flags.input, head.bytes);
      }),
    );
}

async function importTar({ manager, out }: CommandContext, file: string, all: Buffer | null): Promise<void> {
  const progress = createProgress(`importing ${file}`);
  let result;
  try {
    // node:stream is loaded here, not at import: `--help` registers this command and must not pay for it.
    const source = all === null ? file : (await import('node:stream')).Readable.from([all]);
    result = await manager().importSnapshot(source, { onProgress: progress.update });
  } finally {
    progress.finish();
  }
  if (out.json) out.data({ format: 'tar', ...result });
  else out.line(`${out.green('imported')} ${result.snapshot.snapshotId} ${out.dim(`(${describeCounts(result)})`)}`);
}

/**
 * `N new, M already present`, and how many were skipped as older than their
 * key's newest version, if any: an import of what the store holds already
 * changes nothing and says so.
 */
export function describeCounts(result: { published: number; present: number; older: number }): string {
  const older = result.older > 0 ? `, ${result.older} skipped as older than their key's newest version` : '';
  return `${result.published} new, ${result.present} already present${older}`;
}

async function importBackup({ manager, out }: CommandContext, file: string, bytes: Buffer): Promise<void> {
  const state = await parseJsonInput(bytes, file);
  const activity = createActivity(`importing ${file}`);
  let result;
  try {
    result = await manager().importState(state);
  } finally {
    activity.finish();
  }
  if (out.json) out.data({ format: 'json', commit: result.commit, published: result.published, present: result.present, older: result.older, skipped: result.skipped });
  else out.line(`${out.green('imported')} ${inputName(file)} ${out.dim(`(${describeCounts(result)})`)}`);
}

/** JSON backups and database files start with an object, perhaps after a BOM and spaces. */
function looksLikeJson(head: Buffer): boolean {
  return /^(\uFEFF)?\s*\{/.test(head.toString('utf8'));
}

function notImportable(file: string, head: Buffer): Error {
  const error = new InvalidArgumentError(`${inputName(file)} is neither a JSON backup, an original database file nor a snapshot tar: it looks like ${describeContent(head)}`, { file });
  return Object.assign(error, { hint: 'import reads files written by "ae-state export -o FILE.json", "ae-state export --snapshot ID -o FILE.tar", or an enhanced-state.db' });
}

/** What a file that import cannot read seems to be, from its first bytes. */
export function describeContent(head: Buffer): string {
  if (head.length === 0) return 'an empty file';
  const signatures: Array<[number[], string]> = [
    [[0x1f, 0x8b], 'a gzip file (decompress it first)'],
    [[0x50, 0x4b, 0x03, 0x04], 'a zip archive'],
    [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
    [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  ];
  for (const [bytes, name] of signatures) if (bytes.every((b, i) => head[i] === b)) return name;
  if (head.includes(0)) return 'binary data';
  const text = head.toString('utf8').trimStart();
  if (text.startsWith('[')) return 'a JSON array (a backup is an object with "metadata" and "entries")';
  return `text starting with ${JSON.stringify(text.slice(0, 20))}`;
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
    throw readFailure(file, error);
  }
}
