import type { Command } from 'commander';
import type { VersionsCleanup } from '../../manager/versions.js';
import { runCommand } from '../context.js';
import { parseJsonInput, readInput } from '../io.js';
import { parseJsonObjectOfStrings, parsePhase, parseTtlSeconds } from './options.js';

interface SaveFlags {
  key: string;
  input: string;
  phase?: string;
  source?: string;
  tags?: Record<string, string>;
  ttl?: number;
}

export function registerSave(program: Command): void {
  program
    .command('save')
    .description('save a JSON file as the next version of a logical key')
    .requiredOption('-k, --key <key>', 'logical key, e.g. domain.user.specification')
    .requiredOption('-i, --input <file>', "JSON file to save ('-' reads standard input)")
    .option('-p, --phase <phase>', 'development phase, e.g. phase-5', parsePhase)
    .option('--source <source>', 'where the data comes from, e.g. domain_modeling')
    .option('--tags <json>', 'tags as a JSON object of strings', parseJsonObjectOfStrings)
    .option('--ttl <seconds>', "this version's time to live (0: never expires)", parseTtlSeconds)
    .option('--json', 'machine-readable output')
    .action((flags: SaveFlags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const data = await parseJsonInput(await readInput(flags.input), flags.input);
        const m = manager();
        const cleanups: VersionsCleanup[] = [];
        m.on('versionsCleanedUp', (cleanup: VersionsCleanup) => cleanups.push(cleanup));
        const key = await m.saveSSOT(flags.key, data, {
          phase: flags.phase,
          source: flags.source,
          tags: flags.tags,
          ttl: flags.ttl,
        });
        // This save's own version, not whatever is newest by now (another process may have saved since).
        const own = (await m.getVersions(flags.key)).find((v) => v.key === key);
        const removed = cleanups.flatMap((c) => c.deletedVersions);
        if (out.json) out.data({ key, logicalKey: flags.key, version: own?.version, checksum: own?.checksum, removedVersions: removed });
        else {
          out.line(`${out.green('saved')} ${key} ${out.dim(own === undefined ? '(already removed by maxVersions)' : `(version ${own.version})`)}`);
          // Retention is not silent: the user learns which versions the limit dropped.
          if (removed.length > 0) out.line(out.dim(`removed ${removed.map((n) => `v${n}`).join(', ')} (maxVersions ${cleanups[0]!.maxVersions})`));
        }
      }),
    );
}
