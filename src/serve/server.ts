/**
 * Starting and stopping the web view on a store: the HTTP server (hono on
 * Node's http module), the commit watcher behind live updates, and the token.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { NoStoreError } from '../errors.js';
import type { EnhancedStateManager } from '../manager/EnhancedStateManager.js';
import { createApp } from './app.js';
import { CommitWatcher } from './commit-watcher.js';
import { canonicalHost, createToken, hostHeaderOf } from './security.js';

export const DEFAULT_HOST = '127.0.0.1';

export interface ServeOptions {
  manager: EnhancedStateManager;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Given by tests; otherwise a fresh random token. */
  token?: string;
}

export interface RunningServer {
  host: string;
  port: number;
  token: string;
  /** The address to open, token included. */
  url: string;
  /** The address without the token. */
  origin: string;
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = canonicalHost(options.host ?? DEFAULT_HOST);
  const token = options.token ?? createToken();
  const { manager } = options;
  // A read-only view makes no store: opening would create `.ae/` where there is none.
  if (!(await isDirectory(manager.storeDirectory))) throw new NoStoreError(manager.projectRoot, false);
  await manager.initialize();
  const watcher = new CommitWatcher(join(manager.storeDirectory, 'commits'), join(manager.storeDirectory, 'local', 'lock'));
  watcher.on('error', (error) => process.stderr.write(`ae-state serve: live updates stopped: ${error.message}\n`));
  watcher.start();
  // The port is known only once bound, and the host check needs it: the app is built on the first request.
  let fetchApp: ((request: Request) => Response | Promise<Response>) | null = null;
  let server: ServerType;
  const port = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch: (request) => fetchApp!(request), hostname: host, port: options.port ?? 0 }, (info: AddressInfo) => resolve(info.port));
    server.once('error', reject);
  });
  const app = createApp({ manager, watcher, host, port, token });
  fetchApp = (request) => app.fetch(request);
  const origin = `http://${hostHeaderOf(host, port)}`;
  return {
    host,
    port,
    token,
    origin,
    url: `${origin}/?token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        watcher.stop();
        server.close(() => resolve());
        // Live-update streams never end on their own.
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() === true;
}
