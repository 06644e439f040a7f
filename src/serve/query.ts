/**
 * Reading query parameters. Pages take names (keys, snapshot ids, git
 * revisions) and numbers only, never a file-system path; names are checked
 * by the manager, which refuses anything a store cannot hold.
 */
import { InvalidArgumentError } from '../errors.js';
import type { VersionSelector } from '../manager/revisions.js';

export type Query = Record<string, string>;

/** A required parameter. */
export function required(query: Query, name: string): string {
  const value = query[name];
  if (value === undefined || value === '') throw new InvalidArgumentError(`the page needs the parameter "${name}"`, { parameter: name });
  return value;
}

/** A 1-based page number; 1 when absent. */
export function pageNumber(query: Query): number {
  return positiveInteger(query, 'page') ?? 1;
}

export function positiveInteger(query: Query, name: string): number | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError(`"${name}" must be a whole number >= 1 (got ${JSON.stringify(value)})`, { parameter: name });
  }
  return Number(value);
}

/** A version as the CLI's `-a`/`-b` take it (number or full key), read at `at` when given. */
export function versionSelector(version: string | undefined, at: string | undefined): VersionSelector | undefined {
  const given = version === undefined || version === '' ? undefined : version;
  const parsed = given === undefined ? undefined : /^\d+$/.test(given) ? Number(given) : given;
  const revision = at === undefined || at === '' ? undefined : at;
  if (revision === undefined) return parsed;
  return parsed === undefined ? { at: revision } : { version: parsed, at: revision };
}

export interface Paging<T> {
  items: T[];
  page: number;
  pages: number;
  total: number;
}

export function paginate<T>(items: readonly T[], page: number, perPage: number): Paging<T> {
  const pages = Math.max(1, Math.ceil(items.length / perPage));
  const current = Math.min(page, pages);
  return { items: items.slice((current - 1) * perPage, current * perPage), page: current, pages, total: items.length };
}
