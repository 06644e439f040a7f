/**
 * Reading input files and writing output files named on the command line.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, syncDirs } from '../store/atomic-write.js';
import { nodeFs } from '../store/fs.js';
import { dirname } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { parseJsonDocument } from '../model/json-document.js';
import { stdout } from './stdio.js';

export async function readInput(file: string): Promise<Buffer> {
  try {
    return file === '-' ? await readStdin() : await readFile(file);
  } catch (error) {
    throw readFailure(file, error);
  }
}

/** How messages name an input: its file name, or `standard input` for `-`. */
export function inputName(file: string): string {
  return file === '-' ? 'standard input' : file;
}

/** Parses JSON input; a syntax error names the file, line and column, and quotes the line. */
export function parseJsonInput(bytes: Buffer, file: string): Promise<unknown> {
  return parseJsonDocument(bytes, inputName(file));
}

/** Writes an output file atomically ('-' writes to stdout). */
export async function writeOutput(file: string, bytes: Buffer): Promise<void> {
  if (file === '-') {
    stdout.write(bytes);
    return;
  }
  const dir = dirname(file);
  try {
    await writeFileAtomic(nodeFs, dir, file, bytes);
    await syncDirs(nodeFs, [dir]);
  } catch (error) {
    // The atomic write's temporary file is ours, not the user's: name theirs.
    throw writeFailure(file, error);
  }
}

/** `cannot read FILE: no such file`, in words rather than errno codes. */
export function readFailure(file: string, error: unknown): InvalidArgumentError {
  const errno = (error as NodeJS.ErrnoException).code;
  const reason =
    errno === 'ENOENT' ? 'no such file' : errno === 'EISDIR' ? 'it is a directory' : errno === 'EACCES' || errno === 'EPERM' ? 'permission denied' : (errno ?? (error as Error).message);
  return new InvalidArgumentError(`cannot read ${file}: ${reason}`, { file, errno });
}

/** `cannot write FILE: …` for a failed write the user asked for, naming their file and never a temporary one. */
export function writeFailure(file: string, error: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`cannot write ${file}: ${describeWriteFailure(error, dirname(file))}`, { file, errno: (error as NodeJS.ErrnoException).code });
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
