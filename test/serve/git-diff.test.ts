/** The diff page between two git revisions of the project, with the CLI's `--at` rules. */
import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { commitAll, gitInit } from '../git/git-helpers.js';
import { runCli, tempProject } from '../helpers.js';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

describe('serve: diffs across git revisions', () => {
  it('compares a key as committed at two revisions, and refuses a revision git does not know', async () => {
    const root = await tempProject();
    await gitInit(root);
    const writer = new EnhancedStateManager(root, { gcInterval: 0 });
    await writer.saveSSOT('spec', { entities: ['User'], status: 'draft' });
    await commitAll(root, 'first spec');
    await writer.saveSSOT('spec', { entities: ['User', 'Order'], status: 'review' });
    await commitAll(root, 'second spec');
    // A third version on disk only: reading at revisions must not see it.
    await writer.saveSSOT('spec', { entities: [], status: 'scratch' });
    await writer.shutdown();

    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    const server: RunningServer = await startServer({ manager });
    open.push(async () => {
      await server.close();
      await manager.shutdown();
    });
    const get = async (path: string) => {
      const response = await fetch(`${server.origin}${path}`, { headers: { authorization: `Bearer ${server.token}` } });
      return { status: response.status, body: await response.text() };
    };
    const page = await get('/diff?key=spec&atA=HEAD~1&atB=HEAD');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<strong>v1 → v2<\/strong>/);
    expect(page.body).toMatch(/v1 <span class="mono muted">spec_[^<]+<\/span> at <code>HEAD~1<\/code>/);
    const patch = JSON.parse(/<pre id="patch">([\s\S]*?)<\/pre>/.exec(page.body)![1]!.replace(/&quot;/g, '"'));
    const cli = await runCli(['--root', root, 'diff', '-k', 'spec', '--at-a', 'HEAD~1', '--at-b', 'HEAD', '--json']);
    expect(patch).toEqual(JSON.parse(cli.stdout).patch);

    // `at` alone reads both sides there: the version before the newest at that revision.
    expect((await get('/diff?key=spec&at=HEAD')).body).toMatch(/<strong>v1 → v2<\/strong>/);
    expect((await get('/diff?key=spec')).body).toMatch(/<strong>v2 → v3<\/strong>/);
    const unknown = await get('/diff?key=spec&atA=no-such-branch');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('no-such-branch');
  });
});
