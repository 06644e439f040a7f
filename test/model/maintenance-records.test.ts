import { describe, expect, it } from 'vitest';
import { boundedText, validFsckRecord, validGcRecord } from '../../src/model/maintenance-records.js';

const gc = {
  format: 1,
  finishedAt: '2025-01-20T10:00:00.000Z',
  durationMs: 42,
  expiredCount: 3,
  keptBySnapshot: 1,
  keptAsNewest: 2,
  removedObjects: 3,
  freedBytes: 5120,
  removedDebris: 0,
  graceSeconds: 300,
};
const fsck = {
  format: 1,
  finishedAt: '2025-01-20T10:05:00.000Z',
  durationMs: 310,
  repair: false,
  ok: false,
  errors: 1,
  warnings: 0,
  repaired: 0,
  checked: { objects: 12, refs: 9, commits: 9, tags: 1 },
  problems: [{ code: 'corrupt-object', severity: 'error', path: 'objects/ab/cd', message: 'does not hash to its name' }],
  problemCount: 1,
};

describe('maintenance record validation', () => {
  it('accepts the records FORMAT.md shows', () => {
    expect(validGcRecord(gc)).toEqual(gc);
    expect(validFsckRecord(fsck)).toEqual(fsck);
  });

  it('refuses a record that breaks any rule', () => {
    for (const bad of [null, [], 'x', { ...gc, format: 2 }, { ...gc, finishedAt: 'yesterday' }, { ...gc, freedBytes: 1.5 }, { ...gc, removedObjects: '3' }, { ...gc, durationMs: undefined }]) {
      expect(validGcRecord(bad), JSON.stringify(bad)).toBeNull();
    }
    const problem = fsck.problems[0]!;
    for (const bad of [
      { ...fsck, ok: 'yes' },
      { ...fsck, repair: undefined },
      { ...fsck, checked: { ...fsck.checked, tags: -1 } },
      { ...fsck, problems: {} },
      { ...fsck, problems: Array.from({ length: 6 }, () => problem) },
      { ...fsck, problems: [{ ...problem, severity: 'fatal' }] },
      { ...fsck, problems: [{ ...problem, message: 'x'.repeat(501) }] },
      { ...fsck, problemCount: Number.MAX_SAFE_INTEGER + 1 },
    ]) {
      expect(validFsckRecord(bad), JSON.stringify(bad).slice(0, 200)).toBeNull();
    }
  });

  it('cuts long text to what a reader accepts', () => {
    expect(boundedText('short')).toBe('short');
    const cut = boundedText('y'.repeat(2000));
    expect(cut).toHaveLength(500);
    expect(validFsckRecord({ ...fsck, problems: [{ ...fsck.problems[0], message: cut }] })).not.toBeNull();
  });
});
