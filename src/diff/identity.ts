/**
 * Which array items are "the same thing" in two versions of a document.
 * AE-IR lists named things: `domain` entities and their `fields` carry
 * `name`, `invariants` carry `id`, `glossary` terms carry `term`, `api`
 * endpoints are identified by method and path. Matching them by that
 * identity instead of by position makes inserting one entity at the front
 * one addition, not a change of every entity after it. Pure.
 */

/**
 * The identity of an array item for the diff, or a positional identity for
 * items without one (so unnamed items are compared in place, as a plain
 * positional diff would).
 */
export function identityOf(item: unknown, index?: number): string | undefined {
  if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
    const named = namedIdentity(item as Record<string, unknown>);
    if (named !== undefined) return named;
  }
  return index === undefined ? undefined : `#${index}`;
}

function namedIdentity(item: Record<string, unknown>): string | undefined {
  for (const field of ['id', 'name', 'term'] as const) {
    const value = item[field];
    if (typeof value === 'string' || typeof value === 'number') return `${field}:${String(value)}`;
  }
  if (typeof item.method === 'string' && typeof item.path === 'string') return `endpoint:${item.method.toUpperCase()} ${item.path}`;
  return undefined;
}
