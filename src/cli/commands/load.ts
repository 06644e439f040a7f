import type { Command } from 'commander';
import { runCommand } from '../context.js';
import { writeOutput } from '../io.js';
import { parsePositiveInteger } from './options.js';
import { notFound } from '../../manager/versions.js';
import { stderr, stdout } from '../stdio.js';

interface LoadFlags {
  key: string;
  version?: number;
  at?: string;
  output?: string;
  json?: boolean;
}

export function registerLoad(program: Command): void {
  program
    .command('load')
    .description("print (or write) a version's data; exit 3 when it does not exist")
    .requiredOption('-k, --key <key>', 'logical key')
    .option('-v, --version <n>', 'version number (default: the newest)', parsePositiveInteger)
    .option('--at <rev>', 'read the store as committed at this git revision of the project (branch, tag, commit, HEAD~N)')
    .option('-o, --output <file>', 'write the data to this file instead of standard output')
    .option('--json', 'print the whole entry (data and metadata) as JSON')
    .action((flags: LoadFlags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const entry = await manager().loadEntry(flags.key, { version: flags.version, at: flags.at });
        if (entry === null) throw notFound(flags.key, flags.version);
        const body = Buffer.from(`${JSON.stringify(out.json ? entry : entry.data, null, 2)}\n`);
        if (flags.output) {
          await writeOutput(flags.output, body);
          if (!out.json) stderr.write(`wrote ${entry.id} (version ${entry.version}) to ${flags.output}\n`);
        } else {
          stdout.write(body);
        }
      }),
    );
}
