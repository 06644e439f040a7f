/**
 * The web view's guards, with plain HTTP: the token, the Host check, the
 * Origin check on the one action, the headers on every response, and
 * escaping of keys and data that hold markup.
 */
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { EnhancedStateManager, type StorageOptions } from '../../src/index.js';
import { allowedHostHeaders, CONTENT_SECURITY_POLICY, isLoopbackHost } from '../../src/serve/security.js';
import { VERSIONS_PER_PAGE } from '../../src/serve/pages/key.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { runCli, tempProject } from '../helpers.js';
import { HTML_DATA, SCRIPT_KEY } from './support.js';

const running: Array<{ server: RunningServer; manager: EnhancedStateManager }> = [];
afterEach(async () => {
  for (const { server, manager } of running.splice(0)) {
    await server.close();
    await manager.shutdown();
  }
});

async function serveStore(setup?: (manager: EnhancedStateManager) => Promise<void>, options: StorageOptions = {}): Promise<{ server: RunningServer; root: string }> {
  const root = await tempProject();
  const manager = new EnhancedStateManager(root, { gcInterval: 0, ...options });
  await manager.initialize();
  await setup?.(manager);
  const server = await startServer({ manager });
  running.push({ server, manager });
  return { server, root };
}

function authed(server: RunningServer, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.origin}${path}`, { ...init, redirect: 'manual', headers: { authorization: `Bearer ${server.token}`, ...(init.headers ?? {}) } });
}

/** GET with a chosen Host header, which fetch does not let a caller set. */
function getWithHost(server: RunningServer, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: server.host, port: server.port, path, headers: { host, authorization: `Bearer ${server.token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The `Location` of a request sent with its path exactly as given (fetch would normalise it). */
function redirectOf(server: RunningServer, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: server.host, port: server.port, path, headers: { host: `${server.host}:${server.port}` } }, (res) => {
      res.resume();
      resolve(res.headers.location ?? '');
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serve: security', () => {
  it('refuses requests without the right token, and moves a token from the URL into an HttpOnly cookie', async () => {
    const { server } = await serveStore();
    expect(server.host).toBe('127.0.0.1');
    expect((await fetch(`${server.origin}/`)).status).toBe(403);
    expect((await fetch(`${server.origin}/?token=wrong`, { redirect: 'manual' })).status).toBe(403);
    expect((await fetch(`${server.origin}/`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(403);
    expect((await fetch(`${server.origin}/events`)).status).toBe(403);

    const entry = await fetch(`${server.url}&sort=recent`, { redirect: 'manual' });
    expect(entry.status).toBe(303);
    expect(entry.headers.get('location')).toBe('/?sort=recent');
    const cookie = entry.headers.get('set-cookie') ?? '';
    expect(cookie).toContain(`ae_state_token_${server.port}=${server.token}`);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const withCookie = await fetch(`${server.origin}/?sort=recent`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(withCookie.status).toBe(200);
    expect((await authed(server, '/')).status).toBe(200);
  });

  it('redirects a token URL only to a path of its own, never to a host a doubled slash names', async () => {
    const { server } = await serveStore();
    for (const path of ['//evil.example/', '///evil.example/x', '//evil.example']) {
      const location = await redirectOf(server, `${path}?token=${server.token}&sort=recent`);
      expect(location).toMatch(/^\/[^/\\]/);
      // Resolved the way a browser does, the target stays on this server.
      expect(new URL(location, server.origin).origin).toBe(server.origin);
    }
  });

  it('refuses a Host header that is not the bound address (DNS rebinding)', async () => {
    const { server } = await serveStore();
    expect((await getWithHost(server, '/', `evil.example:${server.port}`)).status).toBe(421);
    expect((await getWithHost(server, '/', `127.0.0.1:${server.port + 1}`)).status).toBe(421);
    expect((await getWithHost(server, '/', `localhost:${server.port}`)).status).toBe(200);
    expect((await getWithHost(server, '/', `127.0.0.1:${server.port}`)).status).toBe(200);
  });

  it('accepts the fsck action only from its own pages', async () => {
    const { server } = await serveStore((m) => m.saveSSOT('k', { a: 1 }).then(() => undefined));
    expect((await authed(server, '/health/fsck', { method: 'POST' })).status).toBe(403);
    expect((await authed(server, '/health/fsck', { method: 'POST', headers: { origin: 'http://evil.example' } })).status).toBe(403);
    const own = await authed(server, '/health/fsck', { method: 'POST', headers: { origin: server.origin } });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('OK: 0 error(s)');
  });

  it('sends a strict Content-Security-Policy and nosniff on pages, assets, refusals and errors', async () => {
    const { server } = await serveStore();
    const responses = [
      await authed(server, '/'),
      await authed(server, '/assets/app.js'),
      await fetch(`${server.origin}/`),
      await authed(server, '/no-such-page'),
      await authed(server, '/key?key=missing'),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 403, 404, 404]);
    for (const response of responses) {
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  it('shows keys and data holding markup as text, never as markup', async () => {
    const { server } = await serveStore((m) => m.saveSSOT(SCRIPT_KEY, HTML_DATA, { source: '"><script>x</script>' }).then(() => undefined));
    const pages = await Promise.all(['/', `/key?key=${encodeURIComponent(SCRIPT_KEY)}`].map(async (path) => (await authed(server, path)).text()));
    for (const page of pages) {
      expect(page).not.toContain('<script>window.__xss');
      expect(page).not.toContain('<img src=x onerror=window');
      expect(page).toContain('spec&lt;img src=x onerror=window.__xss=1&gt;&lt;script&gt;window.__xss=1&lt;script&gt;');
      expect(page).not.toMatch(/<script>x<\/script>/);
    }
    const keyPage = pages[1]!;
    // One version: nothing to diff, so no link to a diff.
    expect(keyPage).not.toContain('id="diff-latest"');
    expect((await authed(server, `/diff?key=${encodeURIComponent(SCRIPT_KEY)}`)).status).toBe(404);
    expect(keyPage).not.toContain('<img src=x');
    expect(keyPage).toContain('&lt;img src=x onerror=');
    // A right-to-left override in data is shown as an escape, not applied.
    expect(keyPage).not.toContain('\u202E');
    expect(keyPage).toContain('safe\\u202etxt.exe');
    const notFound = await (await authed(server, `/key?key=${encodeURIComponent('<b>nope</b>')}`)).text();
    expect(notFound).toContain('&lt;b&gt;nope&lt;/b&gt;');
    expect(notFound).not.toContain('<b>nope</b>');

    const raw = await authed(server, `/key/raw?key=${encodeURIComponent(SCRIPT_KEY)}`);
    expect(raw.headers.get('content-type')).toMatch(/^application\/json/);
    expect(raw.headers.get('content-disposition')).toMatch(/^attachment; filename="spec_img_src_x_onerror_window.__xss_1__script_window.__xss_1_script__[^"]+\.json"; filename\*=UTF-8''spec%3Cimg%20src%3Dx/);
    expect(await raw.json()).toEqual(HTML_DATA);
  });

  it('names a raw download by its full key in a Content-Disposition that only attr-chars spell (RFC 5987)', async () => {
    const key = `it's (a*b)! "q" é`;
    const { server } = await serveStore((m) => m.saveSSOT(key, { a: 1 }).then(() => undefined));
    const disposition = (await authed(server, `/key/raw?key=${encodeURIComponent(key)}`)).headers.get('content-disposition') ?? '';
    const ext = /; filename\*=UTF-8''(.*)$/.exec(disposition)?.[1] ?? '';
    expect(ext).toMatch(/^[A-Za-z0-9!#$&+.^_`|~%-]+$/);
    expect(decodeURIComponent(ext)).toMatch(new RegExp(`^${key.replace(/[()*]/g, '\\$&')}_\\d{4}-.*\\.json$`));
    expect(disposition).toMatch(/^attachment; filename="it_s__a_b____q____[^"]+\.json"; /);
  });

  it('shows direction overrides in failures, artifacts, tags, sources and patches as escapes, never applies them', async () => {
    const rlo = '\u202E';
    const { server } = await serveStore(async (m) => {
      // A phase may not hold such characters at all (saves refuse it); tags, sources and data may.
      await m.saveSSOT('spec', { a: 1 }, { phase: 'p1', tags: { [`t${rlo}`]: `v${rlo}` } });
      await m.saveSSOT('spec', { a: 2, [`x${rlo}y`]: `z${rlo}` }, { source: `s${rlo}` });
      await m.persistFailureArtifact({
        id: 'f1',
        timestamp: new Date().toISOString(),
        phase: "phase-4",
        type: 'validation',
        error: new Error(`bad ${rlo}gpj.exe`),
        context: { specKey: 'spec' },
        artifacts: [`report${rlo}txt.exe`],
        retryable: false,
        severity: 'high',
      });
    });
    const failures = await (await authed(server, '/failures')).text();
    const link = /href="(\/failure\?[^"]+)"/.exec(failures)![1]!.replace(/&amp;/g, '&');
    const pages = [failures, ...(await Promise.all(['/key?key=spec', '/key?key=spec&v=1', '/diff?key=spec', link].map(async (path) => (await authed(server, path)).text())))];
    // Attributes (a member's JSON Pointer) are not shown, so they may keep the character.
    const shown = (page: string) => page.replace(/ data-(pointer|path)="[^"]*"/g, '');
    for (const page of pages) expect(shown(page)).not.toContain(rlo);
    expect(pages.at(-1)).toContain('report\\u202etxt.exe');
    expect(pages.at(-1)).toContain('bad \\u202egpj.exe');
  });

  it('shows the last page of a timeline for a page number past its end, and refuses negative or absurd ones', async () => {
    const { server } = await serveStore(async (m) => {
      for (let i = 1; i <= VERSIONS_PER_PAGE + 1; i++) await m.saveSSOT('k', { i });
    }, { maxVersions: VERSIONS_PER_PAGE + 1 });
    const page = await (await authed(server, '/key?key=k&page=999999999')).text();
    expect(page).toContain(`page 2 of 2`);
    expect(page).toMatch(/<td class="num">1<\/td>/);
    expect((await authed(server, '/key?key=k&page=-1')).status).toBe(400);
    expect((await authed(server, '/key?key=k&page=1e3')).status).toBe(400);
    expect((await authed(server, '/key?key=k&page=99999999999999999999')).status).toBe(400);
  });

  it('refuses bad parameters with a 400 page, and takes no file-system path', async () => {
    const { server } = await serveStore((m) => m.saveSSOT('k', { a: 1 }).then(() => undefined));
    expect((await authed(server, '/key?key=..%2F..%2Fetc%2Fpasswd')).status).toBe(400);
    expect((await authed(server, '/key?key=k&v=abc')).status).toBe(400);
    expect((await authed(server, '/key?key=k&v=9')).status).toBe(404);
    expect((await authed(server, '/key')).status).toBe(400);
    expect((await authed(server, '/snapshot?id=..%2F..%2Fx')).status).toBe(404);
  });

  it('streams a commit event when another process commits', async () => {
    const { server, root } = await serveStore();
    const response = await authed(server, '/events');
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = '';
    while (!received.includes('event: ready')) received += (await reader.read()).value ?? '';
    expect((await runCli(['--root', root, 'save', '-k', 'from_elsewhere', '-i', '-'], { input: '{"a":1}' })).code).toBe(0);
    while (!received.includes('event: commit')) received += (await reader.read()).value ?? '';
    expect(received).toMatch(/event: commit\ndata: \{"commitId":"[^"]+"\}/);
    await reader.cancel();
  });

  it('answers to a bind address however it is spelled (upper case names, uncompressed IPv6)', async () => {
    const root = await tempProject();
    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    await manager.initialize();
    for (const host of ['LOCALHOST', '0:0:0:0:0:0:0:1']) {
      const server = await startServer({ manager, host });
      running.push({ server, manager });
      expect(isLoopbackHost(server.host)).toBe(true);
      const response = await fetch(`${server.origin}/`, { headers: { authorization: `Bearer ${server.token}` } });
      expect(response.status).toBe(200);
    }
  });

  it('refuses to serve a directory without a store, and creates none there', async () => {
    const root = await tempProject();
    const manager = new EnhancedStateManager(root, { gcInterval: 0 });
    await expect(startServer({ manager })).rejects.toMatchObject({ code: 'NO_STORE' });
    await manager.shutdown();
    const cli = await runCli(['--root', root, 'serve']);
    expect(cli.code).toBe(4);
    expect(cli.stderr).toMatch(/no ae-state store in /);
    expect(await readdir(root)).toEqual([]);
  });

  it('streams a write event when another process makes a snapshot, which commits nothing', async () => {
    const { server, root } = await serveStore((m) => m.saveSSOT('k', { a: 1 }, { phase: 'p1' }).then(() => undefined));
    const response = await authed(server, '/events');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = '';
    while (!received.includes('event: ready')) received += (await reader.read()).value ?? '';
    expect((await runCli(['--root', root, 'snapshot', '-p', 'p1'])).code).toBe(0);
    while (!received.includes('event: write')) received += (await reader.read()).value ?? '';
    expect(received).not.toContain('event: commit');
    await reader.cancel();
  });

  it('tells loopback addresses from others', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '192.168.1.4', '::', 'example.com'].map(isLoopbackHost)).toEqual([false, false, false, false]);
    expect(allowedHostHeaders('0.0.0.0', 80)).toBeNull();
    expect([...allowedHostHeaders('192.168.1.4', 8080)!]).toEqual(['192.168.1.4:8080']);
    // On port 80 browsers send `Host: 127.0.0.1` and `Origin: http://127.0.0.1`.
    expect(allowedHostHeaders('127.0.0.1', 80)).toEqual(new Set(['127.0.0.1:80', 'localhost:80', '[::1]:80', '127.0.0.1', 'localhost', '[::1]']));
    expect(allowedHostHeaders('192.168.1.4', 80)).toEqual(new Set(['192.168.1.4:80', '192.168.1.4']));
  });
});
