/** Worker thread entry of `verifyAllObjectsInBackground` (see object-verify.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { nodeFs } from './fs.js';
import { guardStoreFs } from './guarded-fs.js';
import type { StoreLayout } from './layout.js';
import { verifyAllObjects } from './object-verify.js';

const { layout } = workerData as { layout: StoreLayout };
try {
  parentPort!.postMessage(await verifyAllObjects(guardStoreFs(nodeFs, layout.store), layout));
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).message });
}
