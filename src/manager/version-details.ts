/**
 * A page of a key's versions with what a timeline shows beyond
 * `VersionInfo`: the commit that published each version and the bytes its
 * object takes on disk. Costs one listing of the key and one stat per
 * version shown, never anything that grows with the rest of the store.
 */
import { InvalidArgumentError } from '../errors.js';
import { assertLogicalKey } from '../model/keys.js';
import type { VersionInfo } from '../model/types.js';
import type { StoreContext } from './context.js';
import { toVersionInfo } from './versions.js';

export interface VersionDetails extends VersionInfo {
  /** Id of the commit that published the version. */
  commit: string;
  /** Bytes of its object file on disk (compressed when `compressed`); null when the file is missing. */
  storedBytes: number | null;
}

export interface VersionPage {
  /** Every visible version of the key. */
  total: number;
  /** The versions asked for, newest first. */
  versions: VersionDetails[];
}

/** Versions `offset` to `offset + limit` of `logicalKey`, counted from the newest. */
export async function readVersionPage(ctx: StoreContext, logicalKey: string, offset: number, limit: number): Promise<VersionPage> {
  assertLogicalKey(logicalKey);
  for (const [name, value] of [['offset', offset], ['limit', limit]] as const) {
    if (!(Number.isSafeInteger(value) && value >= 0)) throw new InvalidArgumentError(`${name} must be an integer >= 0 (got ${String(value)})`, { [name]: value });
  }
  const { versions } = await ctx.index.list(logicalKey);
  const newestFirst = versions.slice().reverse().slice(offset, offset + limit);
  const details = await Promise.all(
    newestFirst.map(async ({ record, version }) => {
      // Loose or packed: a packed object's stored bytes are its length in the pack.
      const found = await ctx.objects.locate(record.checksum).catch(() => null);
      return { ...toVersionInfo(record, version), commit: record.commit, storedBytes: found === null ? null : found.size };
    }),
  );
  return { total: versions.length, versions: details };
}
