/**
 * The one place where errors become exit statuses:
 * 0 success, 1 error, 2 usage error, 3 not found, 4 no store to read.
 */
import { isAeStateError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_FOUND = 3;
/** A read-only command found no store (and created none). */
export const EXIT_NO_STORE = 4;

/** A command-line mistake found after parsing (a bad combination of flags, say). */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** One line of advice printed after the error. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  if (isAeStateError(error) && error.code === 'NOT_FOUND') return EXIT_NOT_FOUND;
  if (isAeStateError(error) && error.code === 'NO_STORE') return EXIT_NO_STORE;
  return EXIT_ERROR;
}
