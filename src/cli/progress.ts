/**
 * A one-line progress bar on stderr for long exports and imports. Drawn only
 * when stderr is a terminal, so pipes, files and CI logs never see it, and
 * redrawn at most ten times a second.
 */
const WIDTH = 24;
const REDRAW_MS = 100;

export interface Progress {
  update(done: number, total: number): void;
  /** Clears the bar. */
  finish(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY !== true) return { update: () => undefined, finish: () => undefined };
  let drawnAt = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - drawnAt < REDRAW_MS && done < total) return;
      drawnAt = now;
      drawn = true;
      stream.write(`\r${renderBar(label, done, total)}`);
    },
    finish() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}

export function renderBar(label: string, done: number, total: number): string {
  const fraction = total <= 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(fraction * WIDTH);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${done}/${total}`;
}
