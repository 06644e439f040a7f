import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../../src/errors.js';
import { UsageError } from '../../src/cli/exit-codes.js';
import { describeFailure, writeError } from '../../src/cli/report-error.js';

function written(program: string, error: unknown, json: boolean): string {
  let text = '';
  writeError(program, describeFailure(error), json, { write: (chunk: string) => ((text += chunk), true) } as NodeJS.WritableStream);
  return text;
}

describe('the error style', () => {
  it('prints one error line and at most one hint', () => {
    expect(written('ae-state', new NotFoundError('logical key "x"'), false)).toBe('ae-state: error: logical key "x" not found\n');
    expect(written('ae-state', new UsageError('bad flags', 'try --help'), false)).toBe('ae-state: error: bad flags\nhint: try --help\n');
    expect(written('ae-state', new Error('first\nsecond'), false)).toBe('ae-state: error: first\n');
  });

  it('quotes a JSON excerpt with a caret under its column', () => {
    const error = new InvalidArgumentError('f.json is not valid JSON at line 1, column 3: x', { excerpt: { text: '{ ]', caret: 2 } });
    expect(written('ae-state', error, false)).toBe('ae-state: error: f.json is not valid JSON at line 1, column 3: x\n  { ]\n    ^\n');
  });

  it('prints one JSON object with --json, code, message and data', () => {
    expect(JSON.parse(written('ae-state', new NotFoundError('snapshot "s"', { snapshotId: 's' }), true))).toEqual({
      error: { code: 'NOT_FOUND', message: 'snapshot "s" not found', data: { snapshotId: 's' } },
    });
    expect(JSON.parse(written('ae-state', new UsageError('bad'), true))).toEqual({ error: { code: 'USAGE', message: 'bad', data: {} } });
  });
});
