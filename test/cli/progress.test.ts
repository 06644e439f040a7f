import { describe, expect, it, vi } from 'vitest';
import { createActivity, createProgress, renderBar } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, text: '', write: (chunk: string) => ((stream.text += chunk), true) };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe('progress on stderr', () => {
  it('draws nothing when the stream is not a terminal', () => {
    const stream = fakeStream(false);
    const bar = createProgress('exporting', stream);
    bar.update(5, 10);
    bar.finish();
    createActivity('gc', stream).finish();
    expect(stream.text).toBe('');
  });

  it('draws the bar and clears its line on finish', () => {
    const stream = fakeStream(true);
    const bar = createProgress('exporting', stream);
    bar.update(10, 10);
    bar.finish();
    expect(stream.text).toBe(`\r\u001b[K${renderBar('exporting', 10, 10)}\r\u001b[K`);
  });

  it('redraws an activity line until finished, then clears it', () => {
    vi.useFakeTimers();
    try {
      const stream = fakeStream(true);
      const activity = createActivity('checking the store', stream);
      vi.advanceTimersByTime(250);
      activity.finish();
      const drawn = stream.text;
      vi.advanceTimersByTime(500);
      expect(stream.text).toBe(drawn);
      expect(drawn.match(/checking the store [|/\\-] \d+\.\d s/g)!.length).toBeGreaterThanOrEqual(3);
      expect(drawn.endsWith('\r\u001b[K')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
