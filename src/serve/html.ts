/**
 * HTML building. Every value reaches a page through hono's `html` tagged
 * template, which escapes `& < > " '` in each interpolated string; only
 * fragments built the same way pass through unescaped. Keys and data may
 * hold anything a store accepts, including text that reads right-to-left,
 * so names are isolated with `<bdi>` and data strings show invisible format
 * characters as visible escapes.
 */
import { html as honoHtml } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString;

/** `html` for synchronous fragments (no promises are ever interpolated here). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return honoHtml(strings, ...values) as Html;
}

/**
 * A name (key, phase, source, tag, artifact) isolated from the text
 * direction around it. Keys cannot hold invisible characters, but phases,
 * sources, tags and artifact names can: those are shown, not applied.
 */
export function name(value: string): Html {
  return html`<bdi>${visibleText(value)}</bdi>`;
}

// Controls, bidi overrides and isolates, zero-width characters: shown, never applied.
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/gu;

/** Text of stored data with invisible and direction-changing characters made visible as `\uXXXX`. */
export function visibleText(value: string): string {
  return value.replace(INVISIBLE, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

/** A URL path with query parameters, each value encoded. */
export function href(path: string, params: Record<string, string | number | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(key, String(value));
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

export function shortId(value: string | undefined, length = 8): string {
  return value === undefined ? '-' : value.slice(0, length);
}
