/**
 * What keeps a local web view local. Three checks run before any route:
 *  - the `Host` header must name the bound address, so a page on a domain
 *    that a rebinding DNS server points at 127.0.0.1 is refused;
 *  - every request carries the server's random token: in the printed URL
 *    once (it is then moved to an HttpOnly, SameSite=Strict cookie and
 *    dropped from the address bar), in that cookie, or in an
 *    `Authorization: Bearer` header, so neither another local user nor a
 *    web page open in the user's browser can read the store;
 *  - a POST (the one write-like action, running fsck) must come from one of
 *    our own pages (`Origin` of the bound address).
 * Every response carries a strict Content-Security-Policy and `nosniff`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** A fresh 256-bit token, URL-safe. */
export function createToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Cookies are not kept apart by port, so each server names its own. */
export function tokenCookieName(port: number): string {
  return `ae_state_token_${port}`;
}

/**
 * The spelling of a bind address that `Host` headers use: names in lower
 * case, IPv6 addresses compressed (`0:0:0:0:0:0:0:1` is `::1`), so the Host
 * check compares like with like.
 */
export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return isIP(lower) === 6 ? new URL(`http://[${lower}]/`).hostname.slice(1, -1) : lower;
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** `host:port` as it appears in a `Host` header (IPv6 in brackets). */
export function hostHeaderOf(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The `Host` values a request may carry. A loopback server answers to its
 * address and to `localhost`; one bound to every interface cannot know the
 * names it is reached by, so there the token alone decides.
 */
export function allowedHostHeaders(host: string, port: number): Set<string> | null {
  if (isWildcardHost(host)) return null;
  const names = isLoopbackHost(host) ? [host, 'localhost', '127.0.0.1', '::1'] : [host];
  const allowed = new Set(names.map((name) => hostHeaderOf(name, port)));
  // Browsers leave the default port out of `Host` and `Origin`.
  if (port === 80) for (const name of names) allowed.add(hostHeaderOf(name, port).replace(/:80$/, ''));
  return allowed;
}

export function isSameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface SecurityOptions {
  host: string;
  port: number;
  token: string;
}

/** Headers every response carries, refusals included. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    // Not `no-referrer`: that makes form posts send `Origin: null`. URLs never hold the token past the first redirect.
    c.header('Referrer-Policy', 'same-origin');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}

export function hostCheck(options: SecurityOptions): MiddlewareHandler {
  const allowed = allowedHostHeaders(options.host, options.port);
  return async (c, next) => {
    const host = c.req.header('host');
    if (allowed !== null && (host === undefined || !allowed.has(host.toLowerCase()))) {
      return refuse(c, 421, 'This server answers only to its own address (Host header refused).');
    }
    await next();
  };
}

export function tokenCheck(options: SecurityOptions): MiddlewareHandler {
  const cookieName = tokenCookieName(options.port);
  return async (c, next) => {
    const url = new URL(c.req.url);
    const fromQuery = url.searchParams.get('token') ?? undefined;
    if (fromQuery !== undefined && isSameToken(fromQuery, options.token)) {
      setCookie(c, cookieName, options.token, { httpOnly: true, sameSite: 'Strict', path: '/' });
      // The token leaves the address bar (and the history) at once.
      url.searchParams.delete('token');
      return c.redirect(`${ownPath(url.pathname)}${url.search}`, 303);
    }
    const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (!isSameToken(getCookie(c, cookieName), options.token) && !isSameToken(bearer, options.token)) {
      return refuse(c, 403, 'This server needs its token: open the URL that `ae-state serve` printed.');
    }
    await next();
  };
}

export function originCheck(options: SecurityOptions): MiddlewareHandler {
  const allowed = allowedHostHeaders(options.host, options.port);
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const origin = c.req.header('origin');
      const originHost = origin === undefined ? undefined : safeHostOf(origin);
      const host = c.req.header('host');
      const isOwnOrigin = originHost !== undefined && (allowed === null ? originHost === host : allowed.has(originHost));
      if (!isOwnOrigin) return refuse(c, 403, 'Actions are accepted only from this server\'s own pages.');
    }
    await next();
  };
}

/** A path of this server: `//evil.example/` would be read as another host by the browser. */
function ownPath(pathname: string): string {
  return `/${pathname.replace(/^[/\\]+/, '')}`;
}

function safeHostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

function refuse(c: Context, status: 403 | 421, message: string): Response {
  return c.text(message, status);
}
