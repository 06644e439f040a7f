/** The CLI from tsc's per-file output, as it started before it was bundled: the reference for start-up rows. */
import { main } from '../src/cli/main.js';

await main(process.argv.slice(2), 'ae-state');
