/**
 * The team's settings as they travel with the store (`.ae/config.json`) and
 * through the environment (`AE_STATE_<OPTION>`). Pure: parsing and checking
 * only; every value is checked by the one options validator, `resolveOptions`.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { AeStateError, InvalidOptionError } from '../errors.js';
import { parseJsonText } from './json-document.js';
import { resolveOptions, type StorageOptions } from './options.js';

/** The options a config file or the environment may set, in the order `config list` prints them. */
export const CONFIG_KEYS = [
  'maxVersions',
  'defaultTTL',
  'compressionThreshold',
  'enableCompression',
  'hookTimeout',
  'lockTimeout',
  'recordGitProvenance',
  'databasePath',
] as const;

export type ConfigKey = (typeof CONFIG_KEYS)[number];
export type ConfigOptions = Pick<StorageOptions, ConfigKey>;

export function isConfigKey(name: string): name is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(name);
}

/**
 * The setting `name` was probably meant to be (`maxVerions` → `maxVersions`):
 * the known key closest by edit distance, ignoring case, if it is close enough
 * to be a typo; undefined otherwise.
 */
export function suggestConfigKey(name: string): ConfigKey | undefined {
  let best: { key: ConfigKey; distance: number } | undefined;
  for (const key of CONFIG_KEYS) {
    const distance = editDistance(name.toLowerCase(), key.toLowerCase());
    if (best === undefined || distance < best.distance) best = { key, distance };
  }
  return best !== undefined && best.distance <= Math.max(1, Math.floor(name.length / 4)) ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** `maxVersions` → `AE_STATE_MAX_VERSIONS`, `defaultTTL` → `AE_STATE_DEFAULT_TTL`. */
export function envNameOf(key: ConfigKey): string {
  return `AE_STATE_${key.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

/** A config file's text as options; refuses anything but an object of known, valid settings. */
export function parseConfigFile(text: string, file: string): ConfigOptions {
  let parsed: unknown;
  try {
    parsed = parseJsonText(text, file);
  } catch (error) {
    // The same words, position and excerpt as any document's, under the code of a bad setting.
    if (error instanceof AeStateError) throw new AeStateError('INVALID_OPTION', error.message, { source: file, ...error.data });
    throw error;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw configError(file, 'must hold a JSON object', {});
  return checkConfig(parsed as Record<string, unknown>, file);
}

/** Checks each setting by name and value; `source` names the file or variable in messages. */
export function checkConfig(values: Record<string, unknown>, source: string, namesOnly = false): ConfigOptions {
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (!isConfigKey(name)) {
      const suggestion = suggestConfigKey(name);
      const help = suggestion === undefined ? `settings: ${CONFIG_KEYS.join(', ')}` : `did you mean ${suggestion}?`;
      throw configError(source, `has no setting "${name}" (${help})`, { option: name });
    }
    if (namesOnly) continue;
    try {
      resolveOptions({ [name]: value });
    } catch (error) {
      if (error instanceof InvalidOptionError) throw configError(source, `: ${error.message}`, error.data);
      throw error;
    }
    options[name] = value;
  }
  return options as ConfigOptions;
}

/** The rule `checkDatabasePathInStore` enforces, as messages quote it. */
export const DATABASE_PATH_IN_STORE_RULE = 'must be a relative path to a file inside the store directory';

/**
 * A config file travels with every clone, and `databasePath` names a file that
 * opening the store reads and renames (the automatic migration): a clone's
 * config must not reach a file outside the store. Constructor options and the
 * environment are the user's own and may point anywhere.
 */
export function checkDatabasePathInStore(databasePath: string, root: string, storeDir: string, source: string): void {
  const rel = relative(storeDir, resolve(root, databasePath));
  if (!isAbsolute(databasePath) && rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) return;
  const rule = `${DATABASE_PATH_IN_STORE_RULE} (${relative(root, storeDir) || '.'}${sep})`;
  throw configError(source, `: option databasePath ${rule} (got ${JSON.stringify(databasePath)})`, { option: 'databasePath', rule });
}

/**
 * A setting typed on a command line or in the environment: numbers and
 * booleans by the type the option has, strings as they are.
 */
export function parseConfigValue(key: ConfigKey, text: string): unknown {
  if (key === 'databasePath') return text;
  if (key === 'enableCompression' || key === 'recordGitProvenance') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    return text;
  }
  return /^\s*$/.test(text) ? text : Number(text);
}

/** The `AE_STATE_<OPTION>` variables that are set, as options. */
export function optionsFromEnvironment(env: NodeJS.ProcessEnv): ConfigOptions {
  const options: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const text = env[envNameOf(key)];
    if (text === undefined || text === '') continue;
    const value = parseConfigValue(key, text);
    try {
      resolveOptions({ [key]: value });
    } catch (error) {
      if (!(error instanceof InvalidOptionError)) throw error;
      const rule = String(error.data.rule);
      throw configError(`environment variable ${envNameOf(key)}`, `${rule} (got ${JSON.stringify(text)})`, { option: key, rule });
    }
    options[key] = value;
  }
  return options as ConfigOptions;
}

/**
 * Precedence: constructor options, then the environment, then the config
 * file, then defaults. An option passed as `undefined` does not hide the others.
 */
export function layerOptions(explicit: StorageOptions, environment: ConfigOptions, file: ConfigOptions): StorageOptions {
  const defined = Object.fromEntries(Object.entries(explicit ?? {}).filter(([, value]) => value !== undefined));
  return { ...file, ...environment, ...defined };
}

function configError(source: string, problem: string, data: Record<string, unknown>): AeStateError {
  return new AeStateError('INVALID_OPTION', `${source}${problem.startsWith(':') ? '' : ' '}${problem}`, { source, ...data });
}

export interface SettingRow {
  key: ConfigKey;
  value: unknown;
  /** Where the value in effect comes from. */
  source: 'default' | 'config' | 'environment';
}

/** Each setting's value in effect and where it comes from, for `config list` and `config get`. */
export function describeSettings(file: ConfigOptions, environment: ConfigOptions): SettingRow[] {
  const resolved = resolveOptions(layerOptions({}, environment, file));
  return CONFIG_KEYS.map((key) => ({
    key,
    value: resolved[key],
    source: Object.hasOwn(environment, key) ? 'environment' : Object.hasOwn(file, key) ? 'config' : 'default',
  }));
}
