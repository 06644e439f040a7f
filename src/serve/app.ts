/**
 * The routes of the web view. Every page is a GET rendered on the server
 * from the manager's reads; the one POST runs a read-only fsck. No route
 * takes a file-system path: pages name keys, versions, snapshots and hooks.
 */
import { PassThrough, Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isAeStateError } from '../errors.js';
import type { EnhancedStateManager } from '../manager/EnhancedStateManager.js';
import { APP_CSS, APP_JS } from './assets.js';
import type { CommitNotice, CommitWatcher } from './commit-watcher.js';
import { KeyListCache } from './key-list-cache.js';
import { renderError } from './layout.js';
import { renderDiffPage } from './pages/diff.js';
import { renderFailurePage, renderHookRunPage } from './pages/failure.js';
import { renderFailuresPage } from './pages/failures.js';
import { FsckRunner, renderHealthPage } from './pages/health.js';
import { readRawVersion, renderKeyPage } from './pages/key.js';
import { renderKeysPage } from './pages/keys.js';
import { findSnapshot, renderSnapshotDiffPage, renderSnapshotPage, renderSnapshotsPage } from './pages/snapshots.js';
import { required } from './query.js';
import { hostCheck, originCheck, securityHeaders, tokenCheck, type SecurityOptions } from './security.js';

export interface AppOptions extends SecurityOptions {
  manager: EnhancedStateManager;
  watcher: CommitWatcher;
}

export function createApp(options: AppOptions): Hono {
  const { manager, watcher } = options;
  const fsck = new FsckRunner(manager);
  const keys = new KeyListCache(manager, watcher);
  const app = new Hono();
  app.use('*', securityHeaders(), hostCheck(options), tokenCheck(options), originCheck(options));

  app.get('/assets/app.css', (c) => asset(c, APP_CSS, 'text/css; charset=utf-8'));
  app.get('/assets/app.js', (c) => asset(c, APP_JS, 'text/javascript; charset=utf-8'));
  // Browsers ask for it on every page; an empty answer keeps error logs clean.
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/', async (c) => c.html(await renderKeysPage(keys, c.req.query())));
  app.get('/key', async (c) => c.html(await renderKeyPage(manager, c.req.query())));
  app.get('/key/raw', async (c) => {
    const raw = await readRawVersion(manager, c.req.query());
    return c.body(new Uint8Array(raw.body), 200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Disposition': attachment(raw.fileName) });
  });
  app.get('/diff', async (c) => c.html(await renderDiffPage(manager, c.req.query())));
  app.get('/snapshots', async (c) => c.html(await renderSnapshotsPage(manager)));
  app.get('/snapshot', async (c) => c.html(await renderSnapshotPage(manager, c.req.query())));
  app.get('/snapshots/diff', async (c) => c.html(await renderSnapshotDiffPage(manager, c.req.query())));
  app.get('/snapshot/tar', async (c) => snapshotTar(c, manager));
  app.get('/failures', async (c) => c.html(await renderFailuresPage(manager, c.req.query())));
  app.get('/failure', async (c) => c.html(await renderFailurePage(manager, c.req.query())));
  app.get('/hook-run', async (c) => c.html(await renderHookRunPage(manager, c.req.query())));
  app.get('/health', async (c) => c.html(await renderHealthPage(manager)));
  app.post('/health/fsck', async (c) => c.html(await renderHealthPage(manager, await fsck.run())));
  app.get('/events', (c) => liveEvents(c, watcher));

  app.notFound((c) => c.html(renderError(404, 'No such page.'), 404));
  app.onError((error, c) => {
    const status = statusOf(error);
    if (status === 500) process.stderr.write(`ae-state serve: ${(error as Error)?.stack ?? String(error)}\n`);
    return c.html(renderError(status, (error as Error)?.message ?? String(error)), status);
  });
  return app;
}

function asset(c: Context, text: string, type: string): Response {
  return c.body(text, 200, { 'Content-Type': type, 'Cache-Control': 'private, max-age=3600' });
}

/** `Content-Disposition` for any full key: an ASCII fallback plus the exact name (RFC 6266, 5987). */
function attachment(fileName: string): string {
  const fallback = fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${extValue(fileName)}`;
}

/** RFC 5987 `value-chars`: encodeURIComponent leaves `'`, `(`, `)` and `*` bare, which are not `attr-char`s. */
function extValue(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The snapshot's tar, streamed: the same bytes as `ae-state export --snapshot`. */
async function snapshotTar(c: Context, manager: EnhancedStateManager): Promise<Response> {
  const snapshot = await findSnapshot(manager, required(c.req.query(), 'id'));
  const body = new PassThrough();
  manager.exportSnapshot(snapshot.snapshotId, body).catch((error: unknown) => body.destroy(error as Error));
  return c.body(Readable.toWeb(body) as ReadableStream, 200, {
    'Content-Type': 'application/x-tar',
    'Content-Disposition': attachment(`${snapshot.snapshotId}.tar`),
  });
}

/**
 * Server-Sent Events: one `commit` event per commit (or burst of commits) by
 * any process, and a `write` event when a writer takes or lets go of the
 * write lock, which is all that snapshots, their deletion and gc show.
 */
function liveEvents(c: Context, watcher: CommitWatcher): Response {
  return streamSSE(c, async (stream) => {
    const send = (notice: CommitNotice) => void stream.writeSSE({ event: 'commit', data: JSON.stringify(notice) }).catch(() => undefined);
    const sendWrite = () => void stream.writeSSE({ event: 'write', data: '{}' }).catch(() => undefined);
    watcher.on('commit', send);
    watcher.on('write', sendWrite);
    await stream.writeSSE({ event: 'ready', data: '{}' });
    await new Promise<void>((resolve) => stream.onAbort(resolve));
    watcher.off('commit', send);
    watcher.off('write', sendWrite);
  });
}

function statusOf(error: unknown): 400 | 404 | 500 {
  if (!isAeStateError(error)) return 500;
  if (error.code === 'NOT_FOUND') return 404;
  if (error.code.startsWith('INVALID') || error.code === 'GIT') return 400;
  return 500;
}
