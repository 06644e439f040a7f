import type { Command } from 'commander';
import { configFilePath } from '../../manager/config-file.js';
import { checkConfig, checkDatabasePathInStore, CONFIG_KEYS, describeSettings, envNameOf, isConfigKey, optionsFromEnvironment, parseConfigValue, suggestConfigKey, type ConfigKey, type ConfigOptions, type SettingRow } from '../../model/config.js';
import { runCommand } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { table } from '../output.js';
import { stderr } from '../stdio.js';

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description(`read and write the store's settings in .ae/config.json (committed with the store): ${CONFIG_KEYS.join(', ')}`);
  config
    .command('list')
    .description('every setting, its value in effect and where it comes from (environment, config or default)')
    .option('--json', 'machine-readable output')
    .action((_flags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const rows = await settings(manager().readConfig());
        if (out.json) out.data(Object.fromEntries(rows.map((r) => [r.key, { value: r.value, source: r.source }])));
        else table(out, ['SETTING', 'VALUE', 'FROM'], rows.map((r) => [r.key, String(r.value), describeSource(r)]));
      }),
    );
  config
    .command('get')
    .description('print the value in effect of one setting')
    .argument('<key>', 'setting name, e.g. maxVersions')
    .option('--json', 'machine-readable output')
    .action((key: string, _flags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const name = checkKey(key);
        const row = (await settings(manager().readConfig())).find((r) => r.key === name)!;
        if (out.json) out.data({ key: row.key, value: row.value, source: row.source });
        else out.line(String(row.value));
      }),
    );
  config
    .command('set')
    .description('write one setting to .ae/config.json, atomically (creates the store if there is none)')
    .argument('<key>', 'setting name, e.g. maxVersions')
    .argument('<value>', 'its value: a number, true/false, or a path inside .ae/ for databasePath')
    .option('--json', 'machine-readable output')
    .action((key: string, value: string, _flags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const name = checkKey(key);
        const m = manager();
        const written = await m.writeConfig(name, checkValue(name, value, m));
        if (out.json) out.data({ key: name, value: written[name], file: configFilePath({ store: m.storeDirectory }) });
        else out.line(`set ${name} = ${String(written[name])} in ${configFilePath({ store: m.storeDirectory })}`);
        warnIfOverridden(name);
      }),
    );
  config
    .command('unset')
    .description('remove one setting from .ae/config.json, so its default applies again')
    .argument('<key>', 'setting name, e.g. maxVersions')
    .option('--json', 'machine-readable output')
    .action((key: string, _flags, command: Command) =>
      runCommand(command, async ({ manager, out }) => {
        const name = checkKey(key);
        const m = manager();
        await m.writeConfig(name, undefined);
        if (out.json) out.data({ key: name, file: configFilePath({ store: m.storeDirectory }) });
        else out.line(`unset ${name} in ${configFilePath({ store: m.storeDirectory })}`);
        warnIfOverridden(name);
      }),
    );
}

async function settings(file: Promise<ConfigOptions>): Promise<SettingRow[]> {
  return describeSettings(await file, optionsFromEnvironment(process.env));
}

function checkKey(key: string): ConfigKey {
  if (!isConfigKey(key)) {
    const suggestion = suggestConfigKey(key);
    throw new UsageError(`unknown setting "${key}"${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}`, `settings: ${CONFIG_KEYS.join(', ')}`);
  }
  return key;
}

/** A value the option's rule refuses is a usage error, shown as the user typed it. */
function checkValue(key: ConfigKey, text: string, m: { projectRoot: string; storeDirectory: string }): unknown {
  const value = parseConfigValue(key, text);
  try {
    checkConfig({ [key]: value }, 'config');
    if (key === 'databasePath') checkDatabasePathInStore(text, m.projectRoot, m.storeDirectory, 'config');
  } catch (error) {
    const rule = (error as { data?: { rule?: unknown } }).data?.rule;
    if (typeof rule === 'string') throw new UsageError(`${key} ${rule} (got ${JSON.stringify(text)})`);
    throw error;
  }
  return value;
}

function describeSource(row: SettingRow): string {
  return row.source === 'environment' ? `environment (${envNameOf(row.key)})` : row.source;
}

function warnIfOverridden(key: ConfigKey): void {
  const variable = envNameOf(key);
  if (process.env[variable] !== undefined && process.env[variable] !== '') {
    stderr.write(`note: ${variable} is set and overrides the config file in this environment\n`);
  }
}
