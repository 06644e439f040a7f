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
    const { findJsonSyntaxError } = await import('../model/json-syntax.js');
    const problem = findJsonSyntaxError(text);
    const where = problem === null ? '' : ` at line ${problem.line}, column ${problem.column} (position ${problem.offset})`;
    const reason = (error as Error).message.split('\n')[0]!.replace(/, ".*" is not valid JSON$/, '');
    throw new InvalidArgumentError(`${file} is not valid JSON${where}: ${reason}`, { file, ...problem });
  }
}

/** Writes an output file atomically ('-' writes to stdout). */
export async function writeOutput(file: string, bytes: Buffer): Promise<void> {
  if (file === '-') {
    process.stdout.write(bytes);
    return;
  }
  const dir = dirname(file);
  await writeFileAtomic(nodeFs, dir, file, bytes);
  await syncDirs(nodeFs, [dir]);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
