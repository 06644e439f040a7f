/**
 * Parsing a JSON document a user gave by file name. A syntax error names the
 * file, line and column, and carries an excerpt of the line for a caret
 * (`data.excerpt`). Synchronous too, for the config file a manager's
 * constructor reads.
 */
import { InvalidArgumentError } from '../errors.js';
import { excerptAt, findJsonSyntaxError } from './json-syntax.js';

export async function parseJsonDocument(bytes: Buffer, file: string): Promise<unknown> {
  return parseJsonText(bytes.toString('utf8'), file);
}

export function parseJsonText(source: string, file: string): unknown {
  const text = source.replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text);
  } catch (error) {
    if (text.trim() === '') throw new InvalidArgumentError(`${file} is not valid JSON: the file is empty`, { file });
    const problem = findJsonSyntaxError(text);
    const where = problem === null ? '' : ` at line ${problem.line}, column ${problem.column}`;
    const excerpt = problem === null ? {} : { excerpt: excerptAt(text, problem) };
    throw new InvalidArgumentError(`${file} is not valid JSON${where}: ${jsonParseReason(error as Error)}`, { file, ...problem, ...excerpt });
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
