#!/usr/bin/env node
'use strict';
// `ae-framework enhanced-state <command>`: the reference document's spelling of the CLI.
const { main } = require('./cli-bundle.js');

const USAGE = 'usage: ae-framework enhanced-state <command> [options]\n(run "ae-framework enhanced-state --help" for the commands)\n';
const [group, ...rest] = process.argv.slice(2);
if (group === 'enhanced-state') {
  main(rest, 'ae-framework enhanced-state');
} else if (group === '--help' || group === '-h' || group === 'help') {
  process.stdout.write(USAGE);
} else if (group === '--version' || group === '-V') {
  main(['--version'], 'ae-framework enhanced-state');
} else {
  process.stderr.write(`ae-framework: error: ${group === undefined ? 'missing command group' : `unknown command group '${group}'`}\nhint: ${USAGE.split('\n')[0]}\n`);
  process.exitCode = 2;
}
