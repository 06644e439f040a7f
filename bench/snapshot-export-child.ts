/**
 * Child process of the snapshot benchmark, so that its peak memory
 * (`maxRSS`) is the export's alone. Modes: `export <root> <id> <tar>` and
 * `baseline <root>` (open the store and read the snapshot list only).
 */
import { EnhancedStateManager } from '../src/index.js';

const [mode, root, snapshotId, target] = process.argv.slice(2);
const manager = new EnhancedStateManager(root!, { gcInterval: 0 });
const start = performance.now();
if (mode === 'export') await manager.exportSnapshot(snapshotId!, target!);
else await manager.listSnapshots();
const seconds = (performance.now() - start) / 1000;
await manager.shutdown();
process.stdout.write(`${JSON.stringify({ seconds, maxRssKb: process.resourceUsage().maxRSS })}\n`);
