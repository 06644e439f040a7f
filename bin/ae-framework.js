#!/usr/bin/env node
// `ae-framework enhanced-state <command>`: the reference document's spelling of the CLI.
import { main } from '../dist/cli/main.js';

const [group, ...rest] = process.argv.slice(2);
if (group !== 'enhanced-state') {
  process.stderr.write('usage: ae-framework enhanced-state <command> [options]\n(run "ae-framework enhanced-state --help" for the commands)\n');
  process.exitCode = 2;
} else {
  await main(rest, 'ae-framework enhanced-state');
}
