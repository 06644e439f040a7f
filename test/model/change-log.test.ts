import { describe, expect, it } from 'vitest';
import { planChanges } from '../../src/model/change-log.js';

const C1 = 'a'.repeat(64);
const C2 = 'b'.repeat(64);
const lines = (...items: object[]) => items.map((item) => `${JSON.stringify(item)}\n`).join('');
const session = (token: string, k: string[], o: string[], end = { c: 1, r: 2, f: { aa: 3 } }) => [{ b: token }, { t: token, k, o }, { e: token, ...end }];

describe('planChanges', () => {
  it('gathers what finished sessions declared, with the mtimes the last one left', () => {
    const text = lines(...session('s1', ['k1'], [C1]), ...session('s2', ['k2', 'k1'], [C2], { c: 5, r: 6, f: { bb: 7 } }));
    const plan = planChanges(text);
    expect(plan).toMatchObject({ isPrecise: true, commitsMtimeMs: 5, keyRefsMtimeMs: 6, consumed: text.length });
    expect([...plan.keyDirs]).toEqual(['k1', 'k2']);
    expect([...plan.checksums]).toEqual([C1, C2]);
    expect([...plan.fanoutMtimes]).toEqual([['aa', 3], ['bb', 7]]);
  });

  it('gathers the commits finished sessions name, and knows none when one of them does not say', () => {
    const [id1, id2] = ['2026-01-01T00-00-00.000Z_0123456789abcdef', '2026-01-01T00-00-00.001Z_fedcba9876543210'];
    const named = (token: string, m: string[]) => session(token, ['k'], [], { c: 1, r: 2, f: {}, m } as never);
    expect([...planChanges(lines(...named('s1', [id1]), ...named('s2', [id2]))).commitIds!]).toEqual([id1, id2]);
    expect(planChanges(lines(...named('s1', [id1]), ...session('old', ['k'], []))).commitIds).toBeNull();
    // A name that is not a commit id makes the line unreadable, so nothing is concluded from it.
    expect(planChanges(lines(...named('s1', ['../escape']))).isPrecise).toBe(false);
  });

  it('is imprecise for a session that declared nothing, and forgets fanout mtimes then', () => {
    const plan = planChanges(lines({ b: 'gc' }, { e: 'gc', c: 1, r: 1, f: {} }, ...session('s', ['k'], [C1])));
    expect(plan.isPrecise).toBe(false);
    expect(plan.fanoutMtimes.size).toBe(0);
    expect([...plan.checksums]).toEqual([C1]);
  });

  it('gathers the objects finished sessions wrote as new files, and refuses a line that names something else', () => {
    const created = (token: string, n: unknown) => [{ b: token }, { t: token, k: ['k'], o: [C1, C2], n }, { e: token, c: 1, r: 2, f: {} }];
    const plan = planChanges(lines(...created('s1', [C1])));
    expect(plan.isPrecise).toBe(true);
    expect([...plan.checksums]).toEqual([C1, C2]);
    expect([...plan.created]).toEqual([C1]);
    // A session whose end line never came names nothing new: its objects may still be changing.
    expect([...planChanges(lines(...created('s1', [C1]).slice(0, 2))).created]).toEqual([]);
    const bad = planChanges(lines(...created('s1', ['../escape'])));
    expect(bad.isPrecise).toBe(false);
    expect([...bad.created]).toEqual([]);
  });

  it('adds the objects a line outside sessions names, and stays precise', () => {
    const plan = planChanges(lines(...session('s', ['k'], [C1]), { s: [C2] }));
    expect(plan.isPrecise).toBe(true);
    expect([...plan.checksums]).toEqual([C1, C2]);
  });

  it('stops before a session still open, and is imprecise while it is', () => {
    const done = lines(...session('s1', ['k1'], [C1]));
    const plan = planChanges(done + lines({ b: 's2' }, { t: 's2', k: ['k2'], o: [] }));
    expect(plan.isPrecise).toBe(false);
    expect(plan.consumed).toBe(done.length);
  });

  it('treats a session followed by another begin as a dead writer', () => {
    const plan = planChanges(lines({ b: 'dead' }, { t: 'dead', k: ['k'], o: [] }, ...session('s', ['k2'], [])));
    expect(plan.isPrecise).toBe(false);
    expect(plan.consumed).toBeGreaterThan(0);
  });

  it('leaves a last line without its newline for the next read, and refuses lines it cannot parse', () => {
    const whole = lines(...session('s', ['k'], []));
    expect(planChanges(`${whole}{"b":"s2"`)).toMatchObject({ isPrecise: true, consumed: whole.length });
    expect(planChanges(`${whole}garbage\n`).isPrecise).toBe(false);
    expect(planChanges(lines({ t: 'x', k: ['k'], o: ['not hex'] })).isPrecise).toBe(false);
  });
});
