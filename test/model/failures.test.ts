import { describe, expect, it } from 'vitest';
import { InvalidArtifactError } from '../../src/errors.js';
import { assertFailureArtifact, deserializeError, fromFailureDocument, serializeError, toFailureDocument } from '../../src/model/failures.js';
import type { FailureArtifact } from '../../src/model/types.js';

function artifact(overrides: Record<string, unknown> = {}): FailureArtifact {
  return {
    id: 'f1',
    timestamp: '2025-01-20T10:00:00.000Z',
    phase: 'phase-4',
    type: 'validation',
    error: new Error('Domain invariant violated'),
    context: { invariant: 'user.email.unique' },
    artifacts: ['report.json'],
    retryable: true,
    severity: 'high',
    ...overrides,
  } as FailureArtifact;
}

function fieldOf(bad: Record<string, unknown>): string | undefined {
  try {
    assertFailureArtifact(artifact(bad));
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArtifactError);
    return (error as InvalidArtifactError).data.field as string;
  }
  return undefined;
}

describe('failure artifact validation', () => {
  it('accepts the reference example', () => {
    expect(() => assertFailureArtifact(artifact())).not.toThrow();
  });

  it.each([
    [{ phase: undefined }, 'phase'],
    [{ phase: 'a/b' }, 'phase'],
    [{ type: undefined }, 'type'],
    [{ type: 'runtime' }, 'type'],
    [{ severity: 'fatal' }, 'severity'],
    [{ severity: undefined }, 'severity'],
    [{ id: '' }, 'id'],
    [{ timestamp: 'yesterday' }, 'timestamp'],
    [{ error: 'boom' }, 'error'],
    [{ context: [] }, 'context'],
    [{ artifacts: [1] }, 'artifacts'],
    [{ retryable: 'yes' }, 'retryable'],
  ])('refuses %j naming the field %s', (bad, field) => {
    expect(fieldOf(bad)).toBe(field);
  });

  it('names the field in the message', () => {
    expect(() => assertFailureArtifact(artifact({ type: 'runtime' }))).toThrow(/"type".*validation, compilation, test, verification, generation/);
  });
});

describe('error serialisation', () => {
  it('keeps name, message, stack, own properties and the cause chain', () => {
    const root = Object.assign(new TypeError('disk said no'), { code: 'EIO', errno: -5 });
    const error = new RangeError('outer', { cause: root });
    const data = JSON.parse(JSON.stringify(serializeError(error)));
    expect(data).toMatchObject({ name: 'RangeError', message: 'outer', cause: { name: 'TypeError', message: 'disk said no', code: 'EIO', errno: -5 } });
    expect(data.stack).toBe(error.stack);
    const back = deserializeError(data);
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('RangeError');
    expect(back.stack).toBe(error.stack);
    expect((back.cause as Error & { code: string }).code).toBe('EIO');
  });

  it('survives a circular cause and non-error causes', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as Error & { cause: unknown }).cause = b;
    expect(() => JSON.stringify(serializeError(a))).not.toThrow();
    expect(serializeError(new Error('x', { cause: { detail: 1 } })).cause).toEqual({ detail: 1 });
    expect(serializeError(new Error('x', { cause: 42 })).cause).toBe(42);
  });

  it('round-trips an artifact through its document', () => {
    const original = artifact();
    const back = fromFailureDocument(JSON.parse(JSON.stringify(toFailureDocument(original))));
    expect({ ...back, error: undefined }).toEqual({ ...original, error: undefined });
    expect(back.error.message).toBe('Domain invariant violated');
  });
});
