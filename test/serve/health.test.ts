/**
 * The Health page with plain HTTP: the last gc and fsck recorded by any
 * process on this machine, the button's report, and markup in a recorded
 * problem coming out escaped.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { runCli, tempProject } from '../helpers.js';

const running: Array<{ server: RunningServer; manager: EnhancedStateManager }> = [];
afterEach(async () => {
  for (const { server, manager } of running.splice(0)) {
    await server.close();
    await manager.shutdown();
  }
});

async function serveStore(): Promise<{ server: RunningServer; root: string; manager: EnhancedStateManager }> {
  const root = await tempProject();
  const manager = new EnhancedStateManager(root, { gcInterval: 0 });
  await manager.saveSSOT('k', { a: 1 });
  const server = await startServer({ manager });
  running.push({ server, manager });
  return { server, root, manager };
}

async function healthPage(server: RunningServer): Promise<string> {
  const response = await fetch(`${server.origin}/health`, { headers: { authorization: `Bearer ${server.token}` } });
  expect(response.status).toBe(200);
  return response.text();
}

describe('the Health page', () => {
  it('shows the gc and fsck run by another process, with their time, on a live page', async () => {
    const { server, root } = await serveStore();
    const empty = await healthPage(server);
    expect(empty).toContain('No garbage collection recorded');
    expect(empty).toContain('No fsck run recorded');

    expect((await runCli(['--root', root, 'gc', '--prune', 'now'])).code).toBe(0);
    expect((await runCli(['--root', root, 'fsck'])).code).toBe(0);
    const other = new EnhancedStateManager(root, { gcInterval: 0 });
    const { lastGc, lastFsck } = await other.getMaintenanceRecords();
    await other.shutdown();

    const page = await healthPage(server);
    expect(page).toContain('data-live="on"');
    expect(page).toContain(`<span class="mono" id="gc-time">${lastGc!.finishedAt}</span>`);
    expect(page).toMatch(/Last gc: removed 0 expired version\(s\)[\s\S]*grace 0 s/);
    expect(page).toContain(`<span class="mono" id="fsck-time">${lastFsck!.finishedAt}</span>`);
    expect(page).toContain('OK: 0 error(s), 0 warning(s)');
  });

  it('shows a recorded problem escaped, and the button records its run', async () => {
    const { server, manager } = await serveStore();
    await writeFile(join(manager.storeDirectory, 'commits', '<img src=x onerror=alert(1)>'), 'x');
    const own = await fetch(`${server.origin}/health/fsck`, { method: 'POST', headers: { authorization: `Bearer ${server.token}`, origin: server.origin } });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('(just now)');

    const page = await healthPage(server);
    expect(page).toContain('Last fsck: <span class="ok" id="fsck-status">OK: 0 error(s), 1 warning(s)</span>');
    expect(page).toContain('commits/&lt;img src=x onerror=alert(1)&gt;');
    expect(page).not.toContain('<img');
  });
});
