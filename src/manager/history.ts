/** The store's commit history, newest first. */
import type { CommitRecord } from '../model/records.js';
import type { StoreContext } from './context.js';

export interface CommitInfo extends CommitRecord {
  id: string;
}

export async function readLog(ctx: StoreContext, maxCount = Number.POSITIVE_INFINITY): Promise<CommitInfo[]> {
  const ids = (await ctx.commits.list()).slice(0, maxCount);
  return Promise.all(ids.map(async (id) => ({ id, ...(await ctx.commits.read(id)) })));
}
