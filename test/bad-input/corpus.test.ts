/**
 * Hostile input at every public entry point (API and CLI): each is refused
 * with a documented error (an `AeStateError` with a stable code, or a CLI
 * exit status with one line on stderr), nothing in `.ae/` changes (apart
 * from `local/`), and no file appears outside it.
 *
 * Unicode confusables (Latin "data" and Cyrillic "dаta") are distinct valid
 * keys that never collide on disk; invisible format characters (zero-width,
 * bidi controls, BOM) are refused, so two keys that render alike differ in
 * a visible character.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AeStateError, EnhancedStateManager } from '../../src/index.js';
import { run, runCli } from '../helpers.js';
import { listFiles } from '../support/store-checks.js';
import { buildTar } from '../support/tar-builder.js';
import {
  BAD_MANAGER_OPTIONS,
  BAD_SAVE_OPTIONS,
  backupWithKey,
  CLI_CASES,
  HOSTILE_DATA,
  HOSTILE_KEYS,
  OTHER_API_CASES,
  type CorpusFiles,
} from './cases.js';

let parent = '';
let root = '';
let scratch = '';
let files: CorpusFiles;
let manager: EnhancedStateManager;
let tried = 0;

async function prepareHostileFiles(): Promise<CorpusFiles> {
  const good = join(scratch, 'good.tar');
  const id = await manager.createSnapshot('p');
  await manager.exportSnapshot(id, good);
  const extracted = join(scratch, 'extracted');
  await mkdir(extracted);
  await run('tar', ['-xf', good, '-C', extracted]);
  const names = (await run('tar', ['-tf', good])).trim().split('\n');
  const manifest = await readFile(join(extracted, 'manifest.json'));
  const entryName = names[1]!;
  const entry = await readFile(join(extracted, entryName));
  const tars: Record<string, string> = {};
  const variants: Record<string, Parameters<typeof buildTar>[1]> = {
    'traversal': [{ name: 'manifest.json', body: manifest }, { name: `../../${entryName}`, body: entry }],
    'absolute path': [{ name: 'manifest.json', body: manifest }, { name: join(parent, 'escape.json'), body: entry }],
    'symlink': [{ name: 'manifest.json', body: manifest }, { name: entryName, type: 'symlink', linkname: '/etc/passwd' }],
    'hard link': [{ name: 'manifest.json', body: manifest }, { name: entryName, type: 'link', linkname: 'manifest.json' }],
    'lying manifest count': [{ name: 'manifest.json', body: manifest }],
    'manifest not first': [{ name: entryName, body: entry }, { name: 'manifest.json', body: manifest }],
  };
  for (const [what, members] of Object.entries(variants)) {
    tars[what] = join(scratch, `${what.replaceAll(' ', '-')}.tar`);
    await buildTar(tars[what]!, members);
  }
  const malformedJson = join(scratch, 'malformed.json');
  await writeFile(malformedJson, '{"metadata": {"version": "1.0.0"}, "entries": [ {"id": ');
  const emptyFile = join(scratch, 'empty.json');
  await writeFile(emptyFile, '');
  const backups = { 'traversal key': join(scratch, 'traversal-backup.json') };
  await writeFile(backups['traversal key'], JSON.stringify(backupWithKey('../../escape')));
  return { malformedJson, emptyFile, tars, backups };
}

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), 'ae-state-corpus-'));
  scratch = await mkdtemp(join(tmpdir(), 'ae-state-corpus-files-'));
  root = join(parent, 'project');
  await mkdir(root);
  manager = new EnhancedStateManager(root, { gcInterval: 0 });
  await manager.saveSSOT('data', { ok: 1 }, { phase: 'p' });
  files = await prepareHostileFiles();
});

afterAll(async () => {
  await manager.shutdown();
  await rm(parent, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
  console.log(`bad-input corpus: ${tried} hostile inputs tried, each refused with a documented error, nothing half-written`);
});

/** Runs `attempt` and checks that it changed nothing in `.ae/` (but `local/`) and created nothing beside it. */
async function expectNothingWritten(attempt: () => Promise<void>): Promise<void> {
  const store = join(root, '.ae');
  const before = { store: await listFiles(store, ['local']), parent: await listFiles(parent, ['project/.ae/local']) };
  await attempt();
  expect(await listFiles(store, ['local'])).toEqual(before.store);
  expect(await listFiles(parent, ['project/.ae/local'])).toEqual(before.parent);
  tried++;
}

async function expectRefused(code: string, call: () => Promise<unknown>): Promise<void> {
  await expectNothingWritten(async () => {
    const outcome = await Promise.resolve().then(call).then(
      (value) => ({ resolved: value }),
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(AeStateError);
    expect((outcome as AeStateError).code).toBe(code);
    expect((outcome as AeStateError).message.length).toBeGreaterThan(0);
  });
}

describe('bad input to the API', () => {
  const keyEntryPoints: Record<string, (m: EnhancedStateManager, key: string) => Promise<unknown>> = {
    saveSSOT: (m, key) => m.saveSSOT(key, { x: 1 }),
    'saveSSOT in a transaction': (m, key) => m.withTransaction((tx) => tx.saveSSOT(key, { x: 1 })),
    loadSSOT: (m, key) => m.loadSSOT(key),
    loadEntry: (m, key) => m.loadEntry(key, 1),
    getVersions: (m, key) => m.getVersions(key),
    diff: (m, key) => m.diff(key),
  };

  it('refuses hostile keys at every entry point that takes a key with an InvalidKeyError', async () => {
    for (const [name, key] of Object.entries(HOSTILE_KEYS)) {
      for (const [entry, call] of Object.entries(keyEntryPoints)) {
        await expectRefused('INVALID_KEY', () => call(manager, key as string)).catch((error: Error) => {
          throw new Error(`${entry} with key "${name}": ${error.message}`);
        });
      }
    }
  });

  it('refuses data that would not read back as saved with an InvalidDataError', async () => {
    for (const [name, make] of Object.entries(HOSTILE_DATA)) {
      for (const inTransaction of [false, true]) {
        const call = inTransaction ? () => manager.withTransaction((tx) => tx.saveSSOT('data', make())) : () => manager.saveSSOT('data', make());
        await expectRefused('INVALID_DATA', call).catch((error: Error) => {
          throw new Error(`data "${name}"${inTransaction ? ' in a transaction' : ''}: ${error.message}`);
        });
      }
    }
  });

  it('refuses option values of the wrong type or out of range', async () => {
    for (const [name, options] of Object.entries(BAD_MANAGER_OPTIONS)) {
      await expectRefused('INVALID_OPTION', async () => new EnhancedStateManager(root, options)).catch((error: Error) => {
        throw new Error(`manager option "${name}": ${error.message}`);
      });
    }
    for (const [name, options] of Object.entries(BAD_SAVE_OPTIONS)) {
      await expectRefused('INVALID_ARGUMENT', () => manager.saveSSOT('data', { x: 1 }, options)).catch((error: Error) => {
        throw new Error(`save option "${name}": ${error.message}`);
      });
    }
  });

  it('refuses bad versions, transactions, phases, snapshot ids, backups and artifacts with their documented codes', async () => {
    for (const c of OTHER_API_CASES) {
      await expectRefused(c.code, () => c.call(manager, files)).catch((error: Error) => {
        throw new Error(`${c.name}: ${error.message}`);
      });
    }
  });

  it('refuses hostile snapshot archives with an UnsafeArchiveError and imports nothing', async () => {
    for (const [what, path] of Object.entries(files.tars)) {
      await expectRefused('UNSAFE_ARCHIVE', () => manager.importSnapshot(path)).catch((error: Error) => {
        throw new Error(`tar with ${what}: ${error.message}`);
      });
    }
  });
});

describe('inputs that look hostile but are valid', () => {
  it('keeps confusable keys (Latin "data", Cyrillic "dаta") apart, in separate directories', async () => {
    const cyrillic = 'd\u0430ta';
    await manager.saveSSOT(cyrillic, { script: 'cyrillic' });
    expect(await manager.loadSSOT(cyrillic)).toEqual({ script: 'cyrillic' });
    expect(await manager.loadSSOT('data')).toEqual({ ok: 1 });
    expect((await readdir(join(root, '.ae', 'refs', 'keys'))).sort()).toEqual(['d%D0%B0ta', 'data']);
    tried++;
  });

  it('round-trips __proto__ members and a 50 MB string exactly', async () => {
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}') as unknown;
    await manager.saveSSOT('proto', proto);
    const back = (await manager.loadSSOT('proto')) as Record<string, unknown>;
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(JSON.stringify(back)).toBe(JSON.stringify(proto));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const huge = 'x'.repeat(50 * 1024 * 1024);
    await manager.saveSSOT('huge', { huge });
    expect(((await manager.loadSSOT('huge')) as { huge: string }).huge.length).toBe(huge.length);
    tried += 2;
  });
});

describe('bad input to the CLI', () => {
  it('exits 1, 2 or 3 with a one-line error on stderr (a JSON error quotes its line), writing nothing', async () => {
    for (const c of CLI_CASES) {
      await expectNothingWritten(async () => {
        const result = await runCli(['--root', root, ...c.args(files)], { cwd: scratch, input: c.input ?? '' });
        const context = `${c.name}: exit ${result.code}, stderr ${JSON.stringify(result.stderr)}`;
        expect(c.exit, context).toContain(result.code);
        // One error line; a JSON syntax error quotes the line with a caret under it; at most one hint.
        const [error, ...rest] = result.stderr.trimEnd().split('\n');
        expect(error, context).toMatch(/^ae-state: error: \S/);
        const excerpt = rest.length >= 2 && rest[0]!.startsWith('  ') && /^ +\^$/.test(rest[1]!) ? 2 : 0;
        const after = rest.slice(excerpt);
        expect(after.length, context).toBeLessThanOrEqual(1);
        if (after.length === 1) expect(after[0], context).toMatch(/^hint: /);
      });
    }
  });
});
