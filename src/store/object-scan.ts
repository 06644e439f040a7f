/**
 * Store-wide walk over the loose objects, `objects/<2 hex>/<62 hex>`, one
 * fan-out directory at a time, for garbage collection and fsck.
 */
import { join } from 'node:path';
import { readdirFast } from './bulk-io.js';
import type { StoreFs } from './fs.js';
import type { StoreLayout } from './layout.js';

const FANOUT = /^[0-9a-f]{2}$/;
const REST = /^[0-9a-f]{62}$/;

export interface FanoutListing {
  dir: string;
  /** Objects in this directory: full checksum and path. */
  objects: Array<{ checksum: string; path: string }>;
  /** Files or directories whose names are not object names. */
  stray: string[];
}

/** Lists `objects/`: the fan-out directories, and names that are not fan-out directories. */
export async function listFanouts(fs: StoreFs, layout: StoreLayout): Promise<{ fanouts: string[]; stray: string[] }> {
  const names = (await readdirFast(fs, layout.objects)).sort();
  return {
    fanouts: names.filter((name) => FANOUT.test(name)),
    // `pack/` holds the packs (packs.ts), walked on their own.
    stray: names.filter((name) => !FANOUT.test(name) && name !== 'pack').map((name) => join(layout.objects, name)),
  };
}

export async function listFanout(fs: StoreFs, layout: StoreLayout, fanout: string): Promise<FanoutListing> {
  const dir = join(layout.objects, fanout);
  const listing: FanoutListing = { dir, objects: [], stray: [] };
  for (const name of (await readdirFast(fs, dir)).sort()) {
    if (REST.test(name)) listing.objects.push({ checksum: fanout + name, path: join(dir, name) });
    else listing.stray.push(join(dir, name));
  }
  return listing;
}
