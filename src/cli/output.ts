/**
 * Printing for people and for scripts. Colour on a TTY unless NO_COLOR is set
 * (https://no-color.org); FORCE_COLOR=1 (or any value but 0) turns it on
 * anywhere and FORCE_COLOR=0 off, over both. JSON output never has colour.
 */
import { stdout, type OutputStream } from './stdio.js';

export interface Output {
  readonly json: boolean;
  readonly color: boolean;
  line(text?: string): void;
  data(value: unknown): void;
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

export function createOutput(json: boolean, stream: Pick<OutputStream, 'write' | 'isTTY'> = stdout): Output {
  const color = !json && wantsColor(stream, process.env);
  const paint = (code: number, reset: number) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[${reset}m` : text);
  return {
    json,
    color,
    line: (text = '') => stream.write(`${text}\n`),
    data: (value) => stream.write(`${JSON.stringify(value, null, 2)}\n`),
    bold: paint(1, 22),
    dim: paint(2, 22),
    green: paint(32, 39),
    red: paint(31, 39),
    yellow: paint(33, 39),
  };
}

export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Prints rows as aligned columns. */
export function table(out: Output, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const pad = (cell: string, i: number) => cell + ' '.repeat(Math.max(0, widths[i]! - visibleLength(cell)));
  out.line(out.bold(header.map(pad).join('  ').trimEnd()));
  for (const row of rows) out.line(row.map(pad).join('  ').trimEnd());
}

function visibleLength(text: string): number {
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}
