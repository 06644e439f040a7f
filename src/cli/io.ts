/**
 * Reading input files and writing output files named on the command line.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, syncDirs } from '../store/atomic-write.js';
import { nodeFs } from '../store/fs.js';
import { dirname } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

export async function readInput(file: string): Promise<Buffer> {
  try {
    return file === '-' ? await readStdin() : await readFile(file);
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file });
  }
}

/** Parses JSON input; a syntax error names the file, line and column. */
export async function parseJsonInput(bytes: Buffer, file: string): Promise<unknown> {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text);
  } catch (error) {
    if (text.trim() === '') throw new InvalidArgumentError(`${file} is not valid JSON: the file is empty`, { file });
    // Loaded only for a file that failed to parse.
    const { excerptAt, findJsonSyntaxError } = await import('../model/json-syntax.js');
    const problem = findJsonSyntaxError(text);
    const where = problem === null ? '' : ` at line ${problem.line}, column ${problem.column}`;
    const reason = jsonParseReason(error as Error);
    const excerpt = problem === null ? {} : { excerpt: excerptAt(text, problem) };
    throw new InvalidArgumentError(`${file} is not valid JSON${where}: ${reason}`, { file, ...problem, ...excerpt });
  }
}

/**
 * V8's reason without the fragment of the document it quotes (cut off at an
 * arbitrary point) and without the position, which the message gives as a
 * line and column instead.
 */
function jsonParseReason(error: Error): string {
  const reason = error.message
    .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '')
    .split('\n')[0]!
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/ \(line \d+ column \d+\)$/, '');
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}

/** Writes an output file atomically ('-' writes to stdout). */
export async function writeOutput(file: string, bytes: Buffer): Promise<void> {
  if (file === '-') {
    process.stdout.write(bytes);
    return;
  }
  const dir = dirname(file);
  try {
    await writeFileAtomic(nodeFs, dir, file, bytes);
    await syncDirs(nodeFs, [dir]);
  } catch (error) {
    // The atomic write's temporary file is ours, not the user's: name theirs.
    throw new InvalidArgumentError(`cannot write ${file}: ${describeWriteFailure(error, dir)}`, { file, errno: (error as NodeJS.ErrnoException).code });
  }
}

function describeWriteFailure(error: unknown, dir: string): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return `directory ${dir} does not exist`;
    case 'ENOTDIR':
      return `${dir} is not a directory`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied in ${dir}`;
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
