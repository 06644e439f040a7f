/**
 * Progress on stderr for long operations: a bar when the total is known, an
 * activity line (label, spinner, seconds) when it is not. Drawn only when
 * stderr is a terminal, so pipes, files and CI logs never see it, redrawn at
 * most ten times a second, and cleared by `finish` so the summary that
 * follows starts on a clean line.
 */
import { stderr, type OutputStream } from './stdio.js';

const WIDTH = 24;
const REDRAW_MS = 100;
const SPINNER = ['|', '/', '-', '\\'];
const CLEAR_LINE = '\r\u001b[K';

export interface Progress {
  update(done: number, total: number): void;
  /** Clears the bar. */
  finish(): void;
}

export function createProgress(label: string, stream: Pick<OutputStream, 'write' | 'isTTY'> = stderr): Progress {
  if (stream.isTTY !== true) return { update: () => undefined, finish: () => undefined };
  let drawnAt = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - drawnAt < REDRAW_MS && done < total) return;
      drawnAt = now;
      drawn = true;
      stream.write(`${CLEAR_LINE}${renderBar(label, done, total)}`);
    },
    finish() {
      if (drawn) stream.write(CLEAR_LINE);
      drawn = false;
    },
  };
}

/** For work whose size is not known in advance (JSON import and export, gc, fsck, migrate). */
export function createActivity(label: string, stream: Pick<OutputStream, 'write' | 'isTTY'> = stderr): { finish(): void } {
  if (stream.isTTY !== true) return { finish: () => undefined };
  const started = Date.now();
  let frame = 0;
  const draw = () => stream.write(`${CLEAR_LINE}${label} ${SPINNER[frame++ % SPINNER.length]} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  draw();
  // Unreferenced: a drawing timer must never keep the process alive.
  const timer = setInterval(draw, REDRAW_MS).unref();
  return {
    finish() {
      clearInterval(timer);
      stream.write(CLEAR_LINE);
    },
  };
}

export function renderBar(label: string, done: number, total: number): string {
  const fraction = total <= 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(fraction * WIDTH);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${done}/${total}`;
}
