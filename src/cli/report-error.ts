/**
 * The one error style of the CLI: `ae-state: error: <what>` on one line and
 * at most one `hint:` line after it; with `--json`, one JSON object
 * `{"error":{"code","message","data"}}` on stderr instead. The exit status is
 * the same either way (see exit-codes.ts).
 */
import { isAeStateError } from '../errors.js';
import { UsageError } from './exit-codes.js';
import { stderr, type OutputStream } from './stdio.js';

export interface ReportedError {
  code: string;
  message: string;
  data: Record<string, unknown>;
  hint?: string;
}

export function describeFailure(error: unknown): ReportedError {
  // A command may attach one line of advice to any error it throws.
  const hint = (error as { hint?: unknown } | null)?.hint;
  const withHint = typeof hint === 'string' && hint !== '' ? { hint } : {};
  if (isAeStateError(error)) return { code: error.code, message: firstLine(error.message), data: error.data, ...withHint };
  if (error instanceof UsageError) return { code: 'USAGE', message: firstLine(error.message), data: {}, ...withHint };
  const message = error instanceof Error ? error.message : String(error);
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  return { code: typeof errno === 'string' ? errno : 'ERROR', message: firstLine(message), data: {} };
}

export function writeError(program: string, failure: ReportedError, json: boolean, stream: Pick<OutputStream, 'write'> = stderr): void {
  if (json) {
    stream.write(`${JSON.stringify({ error: { code: failure.code, message: failure.message, data: failure.data } })}\n`);
    return;
  }
  stream.write(`${program}: error: ${failure.message}\n${excerptLines(failure.data)}${failure.hint ? `hint: ${failure.hint}\n` : ''}`);
}

/** A JSON syntax error quotes the line it found, with a caret under the column. */
function excerptLines(data: Record<string, unknown>): string {
  const excerpt = data.excerpt as { text?: unknown; caret?: unknown } | undefined;
  if (typeof excerpt?.text !== 'string' || typeof excerpt.caret !== 'number') return '';
  return `  ${excerpt.text}\n  ${' '.repeat(excerpt.caret)}^\n`;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
