/**
 * The frame of every page: navigation, the live-update marker, and the one
 * stylesheet and script, both served by this server (nothing from a CDN).
 */
import { html, type Html } from './html.js';

export interface PageOptions {
  title: string;
  /** Which navigation entry is current. */
  section: 'keys' | 'snapshots' | 'failures' | 'health';
  body: Html;
  /** Whether a commit elsewhere should refresh this page (not for results of an action). */
  live?: boolean;
}

const SECTIONS: Array<[PageOptions['section'], string, string]> = [
  ['keys', '/', 'Keys'],
  ['snapshots', '/snapshots', 'Snapshots'],
  ['failures', '/failures', 'Failures & CEGIS'],
  ['health', '/health', 'Health'],
];

export function renderPage(options: PageOptions): string {
  const nav = SECTIONS.map(
    ([section, path, label]) => html`<a href="${path}" ${section === options.section ? html`aria-current="page"` : ''}>${label}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ae-state</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body data-live="${options.live === false ? 'off' : 'on'}">
<header><strong>ae-state</strong><nav>${nav}</nav><span id="live" title="updates when any process commits">live</span></header>
<main id="main">${options.body}</main>
</body>
</html>`.toString();
}

export function renderError(status: number, message: string): string {
  return renderPage({
    title: `Error ${status}`,
    section: 'keys',
    live: false,
    body: html`<h1>Error ${status}</h1><p class="error" id="error-message">${message}</p>`,
  });
}
