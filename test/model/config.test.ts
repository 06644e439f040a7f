import { describe, expect, it } from 'vitest';
import { checkDatabasePathInStore, describeSettings, suggestConfigKey, envNameOf, layerOptions, optionsFromEnvironment, parseConfigFile } from '../../src/model/config.js';

describe('config settings', () => {
  it('names environment variables AE_STATE_<OPTION> in upper snake case', () => {
    expect(envNameOf('maxVersions')).toBe('AE_STATE_MAX_VERSIONS');
    expect(envNameOf('defaultTTL')).toBe('AE_STATE_DEFAULT_TTL');
    expect(envNameOf('recordGitProvenance')).toBe('AE_STATE_RECORD_GIT_PROVENANCE');
  });

  it('refuses an unknown key in a config file, naming it and the file', () => {
    expect(() => parseConfigFile('{"maxVersion": 3}', '/p/.ae/config.json')).toThrow(/\/p\/\.ae\/config\.json has no setting "maxVersion"/);
    expect(() => parseConfigFile('{"gcInterval": 3}', 'c.json')).toThrow(/no setting "gcInterval"/);
  });

  it('checks values with the options validator', () => {
    expect(() => parseConfigFile('{"maxVersions": 0}', 'c.json')).toThrow(/maxVersions must be an integer >= 1/);
    expect(() => parseConfigFile('[1]', 'c.json')).toThrow(/must hold a JSON object/);
    expect(() => parseConfigFile('{', 'c.json')).toThrow(/c\.json is not valid JSON/);
    expect(parseConfigFile('{"maxVersions": 3, "enableCompression": false}', 'c.json')).toEqual({ maxVersions: 3, enableCompression: false });
  });

  it('reads numbers and booleans from the environment, refusing bad ones by variable name', () => {
    expect(optionsFromEnvironment({ AE_STATE_MAX_VERSIONS: '4', AE_STATE_ENABLE_COMPRESSION: 'false', AE_STATE_ROOT: '/x' })).toEqual({
      maxVersions: 4,
      enableCompression: false,
    });
    expect(() => optionsFromEnvironment({ AE_STATE_HOOK_TIMEOUT: 'soon' })).toThrow('environment variable AE_STATE_HOOK_TIMEOUT must be a finite number > 0 (got "soon")');
  });

  it('layers constructor options over the environment over the file, ignoring undefined', () => {
    const layered = layerOptions({ maxVersions: 1, lockTimeout: undefined }, { maxVersions: 2, lockTimeout: 5 }, { maxVersions: 3, lockTimeout: 9, hookTimeout: 7 });
    expect(layered).toEqual({ maxVersions: 1, lockTimeout: 5, hookTimeout: 7 });
  });

  it('says where each value in effect comes from', () => {
    const rows = describeSettings({ maxVersions: 3, hookTimeout: 9 }, { hookTimeout: 2 });
    expect(rows.find((r) => r.key === 'maxVersions')).toEqual({ key: 'maxVersions', value: 3, source: 'config' });
    expect(rows.find((r) => r.key === 'hookTimeout')).toEqual({ key: 'hookTimeout', value: 2, source: 'environment' });
    expect(rows.find((r) => r.key === 'lockTimeout')).toEqual({ key: 'lockTimeout', value: 30, source: 'default' });
  });

  it('keeps a config file\'s databasePath inside the store directory', () => {
    const ok = (path: string) => () => checkDatabasePathInStore(path, '/p', '/p/.ae', '/p/.ae/config.json');
    expect(ok('.ae/enhanced-state.db')).not.toThrow();
    expect(ok('.ae/old/db.json')).not.toThrow();
    for (const path of ['../x.db', '/p/.ae/x.db', '.ae/../x.db', 'x.db', '.ae', '.ae/../../etc/passwd']) {
      expect(ok(path), path).toThrow(/\/p\/\.ae\/config\.json: option databasePath must be a relative path to a file inside the store directory/);
    }
  });

  it('suggests the setting a typo was meant to be, and nothing for an unrelated word', () => {
    expect(suggestConfigKey('maxVerions')).toBe('maxVersions');
    expect(suggestConfigKey('defaultttl')).toBe('defaultTTL');
    expect(suggestConfigKey('hookTimeOut')).toBe('hookTimeout');
    expect(suggestConfigKey('colour')).toBeUndefined();
    expect(suggestConfigKey('x')).toBeUndefined();
  });
});
