/**
 * The keys page keeps its listing between writes: a commit by another
 * process, and a gc that removes versions without a commit, both show on the
 * next request.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { runCli, tempProject } from '../helpers.js';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

async function keysOn(server: RunningServer): Promise<string[]> {
  const page = await (await fetch(`${server.origin}/`, { headers: { authorization: `Bearer ${server.token}` } })).text();
  return [...page.matchAll(/<a href="\/key\?key=[^"]+"><bdi>([^<]+)<\/bdi><\/a>/g)].map((m) => m[1]!);
}

/** Asks until the page shows `expected`: the watcher hears other processes a moment after they write. */
async function eventually(read: () => Promise<string[]>, expected: string[]): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (JSON.stringify(await read()) === JSON.stringify(expected)) return;
    await sleep(25);
  }
  expect(await read()).toEqual(expected);
}

describe('serve: the keys listing between writes', () => {
  it('shows a commit and a gc made by other processes', async () => {
    const root = await tempProject();
    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    await manager.saveSSOT('stays', { a: 1 });
    const server = await startServer({ manager });
    open.push(async () => {
      await server.close();
      await manager.shutdown();
    });
    expect(await keysOn(server)).toEqual(['stays']);

    expect((await runCli(['--root', root, 'save', '-k', 'expires', '-i', '-', '--ttl', '1'], { input: '{"b":2}' })).code).toBe(0);
    await eventually(() => keysOn(server), ['expires', 'stays']);

    await sleep(1100); // past the version's own ttl of 1 s
    const gc = await runCli(['--root', root, 'gc', '--prune', 'now', '--json']);
    expect(JSON.parse(gc.stdout).expiredCount).toBe(1);
    await eventually(() => keysOn(server), ['stays']);
  });
});
