/** Payloads and helpers shared by the benchmark sections. */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const AE_IR_SAMPLE = resolve(REPO_ROOT, 'test', 'fixtures', 'ae-ir.sample.json');

/** The real AE-IR sample (1.9 KB on disk). */
export function sampleAeIr(): Record<string, unknown> {
  return JSON.parse(readFileSync(AE_IR_SAMPLE, 'utf8')) as Record<string, unknown>;
}

/** The sample grown to about `bytes` serialised bytes with more domain entities, as a big spec would. */
export function largeAeIr(bytes = 60 * 1024): Record<string, unknown> {
  const base = sampleAeIr();
  const template = (base.domain as Array<Record<string, unknown>>)[0]!;
  const domain: unknown[] = [];
  let i = 0;
  while (JSON.stringify({ ...base, domain }).length < bytes) {
    domain.push({ ...template, name: `Entity${i}`, description: `Generated entity number ${i} of a large specification` });
    i++;
  }
  return { ...base, domain };
}

export async function benchDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `ae-bench-${name}-`));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Prints a markdown table. */
export function printTable(header: string[], rows: Array<Array<string | number>>): void {
  const cells = rows.map((row) => row.map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
  process.stdout.write('\n');
}

export const fmt = (n: number, digits = 3) => n.toFixed(digits);
export const ratio = (n: number) => `${n.toFixed(2)}x`;
