import { describe, expect, it } from 'vitest';
import { MAX_TIMER_SECONDS, resolveOptions } from '../../src/model/options.js';

describe('options that feed timers', () => {
  for (const option of ['hookTimeout', 'gcInterval'] as const) {
    it(`${option} is refused above the longest delay Node's timers accept`, () => {
      expect(resolveOptions({ [option]: MAX_TIMER_SECONDS })[option]).toBe(2147483.647);
      expect(() => resolveOptions({ [option]: 2_147_484 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(new RegExp(`${option} must be at most 2147483.647 seconds`)) }));
      expect(() => resolveOptions({ [option]: Number.MAX_SAFE_INTEGER })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    });
  }
});
