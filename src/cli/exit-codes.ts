/**
 * The one place where errors become exit statuses:
 * 0 success, 1 error, 2 usage error, 3 not found.
 */
import { isAeStateError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_FOUND = 3;

/** A command-line mistake found after parsing (a bad combination of flags, say). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  if (isAeStateError(error) && error.code === 'NOT_FOUND') return EXIT_NOT_FOUND;
  return EXIT_ERROR;
}

/** One line for stderr: the message, without a stack. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
