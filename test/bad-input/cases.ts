/**
 * The bad-input corpus: hostile keys, data, options, files and archives,
 * each paired with every public entry point it can reach and the documented
 * error it must produce.
 */
import type { EnhancedStateManager } from '../../src/index.js';

export interface ApiCase {
  name: string;
  call: (manager: EnhancedStateManager, files: CorpusFiles) => Promise<unknown>;
  /** The `AeStateError` code expected. */
  code: string;
}

export interface CliCase {
  name: string;
  args: (files: CorpusFiles) => string[];
  input?: string;
  /** Accepted exit statuses (1 error, 2 usage, 3 not found). */
  exit: number[];
}

/** Paths of hostile files prepared in the corpus's scratch directory (outside the project). */
export interface CorpusFiles {
  malformedJson: string;
  emptyFile: string;
  tars: Record<string, string>;
  backups: Record<string, string>;
}

export const HOSTILE_KEYS: Record<string, unknown> = {
  'slash': 'a/b',
  'backslash': 'a\\b',
  'dot-dot': '..',
  'dot-dot inside': 'a..b',
  'traversal': '../../etc/passwd',
  'NUL': 'a\u0000b',
  'bell control character': 'a\u0007b',
  'C1 control character': 'a\u0085b',
  'zero-width space': 'da\u200bta',
  'bidi override': 'a\u202eb',
  'byte-order mark': '\ufeffdata',
  '10 KB key': 'k'.repeat(10 * 1024),
  'empty key': '',
  'leading whitespace': ' data',
  'decomposed (NFD) accent': 'cafe\u0301',
  'lone surrogate': 'a\ud800b',
  'number instead of string': 42,
  'null key': null,
};

function circular(): unknown {
  const a: Record<string, unknown> = { name: 'loop' };
  a.self = a;
  return a;
}

function deeplyNested(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

export const HOSTILE_DATA: Record<string, () => unknown> = {
  'circular object': circular,
  '100,000 levels of nesting': () => deeplyNested(100_000),
  'function': () => ({ f: () => 1 }),
  'symbol': () => ({ s: Symbol('x') }),
  'bigint': () => ({ n: 10n }),
  'NaN': () => ({ n: Number.NaN }),
  'Infinity': () => [Number.POSITIVE_INFINITY],
  'undefined': () => undefined,
  'undefined in an array': () => [1, undefined],
  'invalid Date': () => ({ d: new Date(Number.NaN) }),
  'class instance (Map)': () => ({ m: new Map([[1, 2]]) }),
};

export const BAD_MANAGER_OPTIONS: Record<string, Record<string, unknown>> = {
  'negative defaultTTL': { defaultTTL: -1 },
  'zero maxVersions': { maxVersions: 0 },
  'fractional maxVersions': { maxVersions: 1.5 },
  'NaN compressionThreshold': { compressionThreshold: Number.NaN },
  'string gcInterval': { gcInterval: '60' },
  'negative lockTimeout': { lockTimeout: -5 },
  'non-boolean enableCompression': { enableCompression: 'yes' },
  'empty storePath': { storePath: '' },
  'unknown option': { maxVersion: 3 },
};

export const BAD_SAVE_OPTIONS: Record<string, Record<string, unknown>> = {
  'negative ttl': { ttl: -1 },
  'NaN ttl': { ttl: Number.NaN },
  'string ttl': { ttl: '60' },
  'empty phase': { phase: '' },
  'non-string tag': { tags: { a: 1 } },
  'array tags': { tags: ['a'] },
};

/** API calls beyond saves and loads, with the code each must fail with. */
export const OTHER_API_CASES: ApiCase[] = [
  { name: 'loadSSOT version 0', call: (m) => m.loadSSOT('data', 0), code: 'INVALID_ARGUMENT' },
  { name: 'loadSSOT version -1', call: (m) => m.loadSSOT('data', -1), code: 'INVALID_ARGUMENT' },
  { name: 'loadSSOT version 1.5', call: (m) => m.loadSSOT('data', 1.5), code: 'INVALID_ARGUMENT' },
  { name: 'loadSSOT version NaN', call: (m) => m.loadSSOT('data', Number.NaN), code: 'INVALID_ARGUMENT' },
  { name: 'unknown transactionId on save', call: (m) => m.saveSSOT('data', 1, { transactionId: 'tx_nope' }), code: 'TRANSACTION_NOT_FOUND' },
  // The id is looked up before its type is checked: a number names no open transaction.
  { name: 'numeric transactionId on save', call: (m) => m.saveSSOT('data', 1, { transactionId: 5 as unknown as string }), code: 'INVALID_ARGUMENT' },
  { name: 'commit of an unknown transaction', call: (m) => m.commitTransaction('tx_nope'), code: 'TRANSACTION_NOT_FOUND' },
  { name: 'rollback of an unknown transaction', call: (m) => m.rollbackTransaction('../tx'), code: 'TRANSACTION_NOT_FOUND' },
  { name: 'GC prune -1', call: (m) => m.runGarbageCollection({ prune: -1 }), code: 'INVALID_ARGUMENT' },
  { name: 'GC prune "soon"', call: (m) => m.runGarbageCollection({ prune: 'soon' as 'now' }), code: 'INVALID_ARGUMENT' },
  { name: 'snapshot phase with traversal', call: (m) => m.createSnapshot('../../x'), code: 'INVALID_KEY' },
  { name: 'snapshot phase with a slash', call: (m) => m.createSnapshot('a/b'), code: 'INVALID_KEY' },
  { name: 'snapshot phase empty', call: (m) => m.createSnapshot(''), code: 'INVALID_KEY' },
  { name: 'export of an unknown snapshot', call: (m, f) => m.exportSnapshot('snapshot_p_2025-01-01T00:00:00.000Z', `${f.malformedJson}.tar`), code: 'NOT_FOUND' },
  { name: 'export of a traversal snapshot id', call: (m, f) => m.exportSnapshot('../../etc/passwd', `${f.malformedJson}.tar`), code: 'NOT_FOUND' },
  { name: 'diff of a missing version', call: (m) => m.diff('data', 1, 99), code: 'NOT_FOUND' },
  { name: 'importState of a string', call: (m) => m.importState('not a backup'), code: 'INVALID_BACKUP' },
  { name: 'importState of another version', call: (m) => m.importState({ metadata: { version: '9.9.9' }, entries: [] }), code: 'UNSUPPORTED_FORMAT' },
  { name: 'importState with a traversal key', call: (m) => m.importState(backupWithKey('../../escape')), code: 'INVALID_BACKUP' },
  { name: 'importState with a lying checksum', call: (m) => m.importState(backupWithKey('data', '0'.repeat(64))), code: 'INVALID_BACKUP' },
  { name: 'failure artifact without fields', call: (m) => m.persistFailureArtifact({} as never), code: 'INVALID_ARTIFACT' },
  { name: 'failure artifact with a traversal phase', call: (m) => m.persistFailureArtifact(artifact('../../x')), code: 'INVALID_ARTIFACT' },
];

export function backupWithKey(logicalKey: string, checksum?: string): unknown {
  const timestamp = '2025-01-20T10:00:00.000Z';
  return {
    metadata: { version: '1.0.0', timestamp, options: {} },
    entries: [
      {
        id: `${logicalKey}_${timestamp}`,
        logicalKey,
        timestamp,
        version: 1,
        checksum: checksum ?? 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        data: { x: 1 },
        compressed: false,
        tags: {},
        ttl: 60,
        metadata: { size: 7, created: timestamp, accessed: timestamp, source: 'x' },
      },
    ],
    indices: { keyIndex: {}, versionIndex: {} },
  };
}

function artifact(phase: string) {
  return {
    id: 'f1',
    timestamp: '2025-01-20T10:00:00.000Z',
    phase,
    type: 'validation' as const,
    error: new Error('x'),
    context: {},
    artifacts: [],
    retryable: true,
    severity: 'high' as const,
  };
}

/** CLI commands with hostile arguments or files; each must exit non-zero with one line on stderr. */
export const CLI_CASES: CliCase[] = [
  { name: 'save with a traversal key', args: () => ['save', '-k', '../../escape', '-i', '-'], input: '{"a":1}', exit: [1] },
  { name: 'save with a NUL-free control key', args: () => ['save', '-k', 'a\u0007b', '-i', '-'], input: '{"a":1}', exit: [1] },
  { name: 'save with a 10 KB key', args: () => ['save', '-k', 'k'.repeat(10240), '-i', '-'], input: '{"a":1}', exit: [1] },
  { name: 'save of malformed JSON', args: (f) => ['save', '-k', 'data', '-i', f.malformedJson], exit: [1] },
  { name: 'save of an empty file', args: (f) => ['save', '-k', 'data', '-i', f.emptyFile], exit: [1] },
  { name: 'save of malformed JSON on stdin', args: () => ['save', '-k', 'data', '-i', '-'], input: '{"a": [1, 2', exit: [1] },
  { name: 'save with a negative ttl', args: () => ['save', '-k', 'data', '-i', '-', '--ttl', '-1'], input: '1', exit: [1, 2] },
  { name: 'save with non-JSON tags', args: () => ['save', '-k', 'data', '-i', '-', '--tags', '{nope'], input: '1', exit: [1, 2] },
  { name: 'save without a key', args: () => ['save', '-i', '-'], input: '1', exit: [2] },
  { name: 'load with a traversal key', args: () => ['load', '-k', '../x'], exit: [1] },
  { name: 'load of version "abc"', args: () => ['load', '-k', 'data', '-v', 'abc'], exit: [1, 2] },
  { name: 'load of version 0', args: () => ['load', '-k', 'data', '-v', '0'], exit: [1, 2] },
  { name: 'gc --prune soon', args: () => ['gc', '--prune', 'soon'], exit: [1, 2] },
  // A phase is checked as a phase by every command that takes one: a usage error.
  { name: 'snapshot of a traversal phase', args: () => ['snapshot', '-p', '../x'], exit: [2] },
  { name: 'save with a traversal phase', args: () => ['save', '-k', 'data', '-i', '-', '-p', '../x'], input: '1', exit: [2] },
  { name: 'failure with a traversal phase', args: () => ['simulate-failure', '-p', '../x', '-t', 'validation'], exit: [2] },
  { name: 'import of malformed JSON', args: (f) => ['import', '-i', f.malformedJson], exit: [1] },
  { name: 'import of an empty file', args: (f) => ['import', '-i', f.emptyFile], exit: [1] },
  ...['traversal', 'absolute path', 'symlink', 'hard link', 'lying manifest count', 'manifest not first'].map(
    (what): CliCase => ({ name: `import of a tar with ${what}`, args: (f) => ['import', '-i', f.tars[what]!], exit: [1] }),
  ),
  { name: 'import of a backup with a traversal key', args: (f) => ['import', '-i', f.backups['traversal key']!], exit: [1] },
  { name: 'an unknown command', args: () => ['frobnicate'], exit: [2] },
];
