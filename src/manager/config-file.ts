/**
 * Reading and writing the store's config file, `<store>/config.json`: the
 * settings a team commits with its store (see README, "Configuration").
 */
import { closeSync, constants, lstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfig, checkDatabasePathInStore, CONFIG_KEYS, parseConfigFile, type ConfigKey, type ConfigOptions } from '../model/config.js';
import { syncDirs, writeFileAtomic } from '../store/atomic-write.js';
import { readFileIfExists, type StoreFs } from '../store/fs.js';
import { unsafeEntryError } from '../store/guarded-fs.js';
import type { StoreLayout } from '../store/layout.js';
import type { StoreContext } from './context.js';

export const CONFIG_FILE = 'config.json';

export function configFilePath(layout: Pick<StoreLayout, 'store'>): string {
  return join(layout.store, CONFIG_FILE);
}

/**
 * Read synchronously because the manager's options are settled in its
 * constructor; the file is a few hundred bytes. A missing file (or store) is
 * an empty config; a damaged one is refused, naming the file. A clone may
 * bring a link in place of the store directory or of the file: as everywhere
 * in the store (see store/guarded-fs.ts), it is refused, never followed.
 */
export function readConfigFileSync(storeDir: string): ConfigOptions {
  const path = join(storeDir, CONFIG_FILE);
  for (const entry of [storeDir, path]) {
    let stats;
    try {
      stats = lstatSync(entry);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return {};
      throw error;
    }
    if (!(entry === storeDir ? stats.isDirectory() : stats.isFile())) throw unsafeEntryError(entry, stats);
  }
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return parseConfigFile(readFileSync(fd, 'utf8'), path);
  } finally {
    closeSync(fd);
  }
}

export async function readConfigFile(fs: StoreFs, layout: StoreLayout): Promise<ConfigOptions> {
  const path = configFilePath(layout);
  const bytes = await readFileIfExists(fs, path);
  return bytes === null ? {} : parseConfigFile(bytes.toString('utf8'), path);
}

/**
 * Sets (or, with `undefined`, removes) one setting under the store's write
 * lock, so two `config set` calls never lose each other's change, and
 * replaces the file atomically. Returns the file's settings afterwards.
 */
export function writeConfigSetting(ctx: StoreContext, key: ConfigKey, value: unknown): Promise<ConfigOptions> {
  checkConfig({ [key]: value ?? null }, 'config', value === undefined);
  if (key === 'databasePath' && typeof value === 'string') checkDatabasePathInStore(value, ctx.layout.root, ctx.layout.store, 'config');
  return ctx.withWriteLock(async () => {
    const current: Record<string, unknown> = { ...(await readConfigFile(ctx.fs, ctx.layout)) };
    if (value === undefined) delete current[key];
    else current[key] = value;
    // Written in CONFIG_KEYS order, so the committed file diffs cleanly.
    const ordered = Object.fromEntries(CONFIG_KEYS.filter((k) => Object.hasOwn(current, k)).map((k) => [k, current[k]]));
    await writeFileAtomic(ctx.fs, ctx.layout.tmp, configFilePath(ctx.layout), Buffer.from(`${JSON.stringify(ordered, null, 2)}\n`));
    await syncDirs(ctx.fs, [ctx.layout.store]);
    return ordered as ConfigOptions;
  });
}
