/**
 * Typed errors with stable codes. Callers (and the CLI's exit-status mapping)
 * switch on `code`, never on message text; `data` carries the facts a program
 * needs (the key, the object path, the limit that was crossed).
 */

export type ErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_DATA'
  | 'INVALID_OPTION'
  | 'INVALID_ARGUMENT'
  | 'INTEGRITY'
  | 'NOT_FOUND'
  | 'LOCK_TIMEOUT'
  | 'TRANSACTION_NOT_FOUND'
  | 'TRANSACTIONS_DISABLED'
  | 'UNSAFE_ARCHIVE'
  | 'INVALID_BACKUP'
  | 'UNSUPPORTED_FORMAT'
  | 'INVALID_ARTIFACT'
  | 'STORE_CLOSED'
  | 'GIT'
  | 'NO_STORE'
  | 'IO';

/**
 * Marks every AeStateError, so one made by another copy of this module is
 * still recognised (the bundled CLI and the web view it loads from the
 * per-file build are two copies).
 */
const AE_STATE_ERROR = Symbol.for('ae-state.AeStateError');

export class AeStateError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
    Object.defineProperty(this, AE_STATE_ERROR, { value: true });
  }
}

/** A logical key, full key or snapshot id that breaks a naming rule. */
export class InvalidKeyError extends AeStateError {
  constructor(key: string, rule: string) {
    super('INVALID_KEY', `key ${describeKey(key)} ${rule}`, { key, rule });
  }
}

/** Data that cannot be stored so that it reads back exactly. */
export class InvalidDataError extends AeStateError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('INVALID_DATA', message, data);
  }
}

/** A `StorageOptions` field of the wrong type or out of range. */
export class InvalidOptionError extends AeStateError {
  constructor(option: string, rule: string, value: unknown) {
    super('INVALID_OPTION', `option ${option} ${rule} (got ${describeValue(value)})`, { option, rule });
  }
}

/** A bad argument to an API call or CLI command that is not a key, option or data. */
export class InvalidArgumentError extends AeStateError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('INVALID_ARGUMENT', message, data);
  }
}

/** Stored bytes that do not match their checksum or format. Never returned as data. */
export class IntegrityError extends AeStateError {
  constructor(message: string, data: { path: string; key?: string; checksum?: string }) {
    super('INTEGRITY', message, data);
  }
}

/** Something that was asked for by name and does not exist. */
export class NotFoundError extends AeStateError {
  constructor(what: string, data: Record<string, unknown> = {}) {
    super('NOT_FOUND', `${what} not found`, data);
  }
}

export class LockTimeoutError extends AeStateError {
  constructor(lockPath: string, waitedMs: number, holder: string) {
    super(
      'LOCK_TIMEOUT',
      `timed out after ${waitedMs} ms waiting for the store lock ${lockPath} (held by ${holder})`,
      { path: lockPath, waitedMs, holder },
    );
  }
}

/**
 * The message is the reference's, word for word, because its users match on
 * it; whether the id was never opened or is already finished is in `data.state`.
 */
export class TransactionNotFoundError extends AeStateError {
  constructor(txId: string, state: 'unknown' | 'committed' | 'rolled back') {
    super('TRANSACTION_NOT_FOUND', `Transaction not found: ${txId}`, { txId, state });
  }
}

/** The reference's message, word for word (see TransactionNotFoundError). */
export class TransactionsDisabledError extends AeStateError {
  constructor() {
    super('TRANSACTIONS_DISABLED', 'Transactions are disabled');
  }
}

export class UnsafeArchiveError extends AeStateError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('UNSAFE_ARCHIVE', message, data);
  }
}

export class InvalidBackupError extends AeStateError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('INVALID_BACKUP', message, data);
  }
}

export class UnsupportedFormatError extends AeStateError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('UNSUPPORTED_FORMAT', message, data);
  }
}

export class InvalidArtifactError extends AeStateError {
  constructor(field: string, rule: string) {
    super('INVALID_ARTIFACT', `failure artifact field "${field}" ${rule}`, { field, rule });
  }
}

/** The project's git repository is missing, or a revision or object in it cannot be read. */
export class GitError extends AeStateError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('GIT', message, data);
  }
}

/**
 * A commit was published (readers see it) but the final fsync failed, so it
 * may not survive a crash of the machine. Retrying the save would store it twice.
 */
export class CommitNotDurableError extends AeStateError {
  constructor(commitId: string, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException)?.code ?? 'unknown';
    super('IO', `commit ${commitId} was published but could not be made durable (${errno}): check the disk before going on`, { commitId, errno }, { cause });
  }
}

/** A read-only command found no store to read; nothing was created. */
export class NoStoreError extends AeStateError {
  constructor(path: string, searchedParents: boolean) {
    super('NO_STORE', `no ae-state store in ${path}${searchedParents ? ' or its parents' : ''} (run ae-state init)`, { path });
  }
}

export class StoreClosedError extends AeStateError {
  constructor() {
    super('STORE_CLOSED', 'the state manager was shut down');
  }
}

export function isAeStateError(error: unknown): error is AeStateError {
  return error instanceof AeStateError || (typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[AE_STATE_ERROR] === true);
}

/** Keys can hold control characters or be huge: show them escaped and cut. */
export function describeKey(key: string): string {
  const shown = key.length > 80 ? `${key.slice(0, 80)}…` : key;
  return JSON.stringify(shown);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}
