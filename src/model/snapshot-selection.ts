/**
 * Which versions a snapshot names. Pure, so the rule is easy to test and to
 * state exactly:
 *
 *  - For every logical key, only its latest visible version is considered.
 *  - That version is selected when its `phase` equals the snapshot's phase,
 *  - or when `entities` is given and the logical key names one of them.
 *
 * A logical key names an entity when the entity's segments appear as
 * consecutive segments of the key, comparing case-insensitively, where
 * segments are the parts between `.`, `_`, `-`, `:`, `/` and whitespace.
 * So `User` matches `domain.user.specification` and `user_spec`, `domain_model`
 * matches `phase5.domain_model.final`, and `User` does not match `username`.
 */
import { InvalidArgumentError } from '../errors.js';

const SEGMENT_SEPARATORS = /[._\-:/\s]+/u;
const MAX_ENTITY_LENGTH = 200;

export function keySegments(name: string): string[] {
  return name
    .toLowerCase()
    .split(SEGMENT_SEPARATORS)
    .filter((segment) => segment.length > 0);
}

/** Whether `logicalKey` names `entity` (see the module comment). */
export function keyNamesEntity(logicalKey: string, entity: string): boolean {
  const wanted = keySegments(entity);
  if (wanted.length === 0) return false;
  const segments = keySegments(logicalKey);
  for (let start = 0; start + wanted.length <= segments.length; start++) {
    if (wanted.every((segment, i) => segments[start + i] === segment)) return true;
  }
  return false;
}

/** Whether the latest version of a key belongs in a snapshot of `phase` (and `entities`). */
export function isSelectedForSnapshot(
  latest: { logicalKey: string; phase?: string },
  phase: string,
  entities: readonly string[] | null,
): boolean {
  if (latest.phase === phase) return true;
  return entities !== null && entities.some((entity) => keyNamesEntity(latest.logicalKey, entity));
}

/**
 * Checks the `entities` argument of `createSnapshot`: undefined or an array
 * of non-empty strings. Returns null for "no entities" (undefined or []),
 * else the entities trimmed, without duplicates, in the order given.
 */
export function normalizeEntities(entities: unknown): string[] | null {
  if (entities === undefined || entities === null) return null;
  if (!Array.isArray(entities)) throw new InvalidArgumentError('entities must be an array of names', { entities });
  const names: string[] = [];
  for (const entity of entities) {
    if (typeof entity !== 'string' || entity.trim() === '' || entity.length > MAX_ENTITY_LENGTH) {
      throw new InvalidArgumentError(`entity names must be non-empty strings of at most ${MAX_ENTITY_LENGTH} characters (got ${JSON.stringify(entity)})`);
    }
    if (!names.includes(entity.trim())) names.push(entity.trim());
  }
  return names.length === 0 ? null : names;
}
