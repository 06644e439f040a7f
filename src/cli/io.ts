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
export function parseJsonInput(bytes: Buffer, file: string): unknown {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    let where = '';
    if (position) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset).split('\n');
      where = ` at line ${before.length}, column ${before.at(-1)!.length + 1} (position ${offset})`;
    } else if (text.trim() === '') {
      where = ' (the file is empty)';
    } else if (/end of JSON input/.test(message)) {
      const lines = text.split('\n');
      where = ` at line ${lines.length}, column ${lines.at(-1)!.length + 1} (end of file)`;
    }
    const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/^Unexpected end of JSON input$/, 'unexpected end of input');
    throw new InvalidArgumentError(`${file} is not valid JSON${where}: ${reason}`, { file });
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
