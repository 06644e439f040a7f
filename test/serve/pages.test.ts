/**
 * The web view in a real browser: every page on a store made here, the
 * click path key → version → diff → snapshot diff → failure → hook run,
 * live updates from a commit by another process, and refusals. Screenshots
 * of each page go to test-output/serve/.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers.js';
import { launchChromium } from './browser.js';
import { BIDI_KEY, buildFixtureStore, QUOTE_KEY, SCRIPT_KEY, startServe, type FixtureStore, type ServeProcess } from './support.js';

const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'serve');

let root: string;
let fixture: FixtureStore;
let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let noBrowser: Error | null = null;
const consoleProblems: string[] = [];

beforeAll(async () => {
  try {
    browser = await launchChromium();
  } catch (error) {
    noBrowser = error as Error;
    return;
  }
  // Not tempProject: the store lives for the whole file, not for one test.
  root = await mkdtemp(join(tmpdir(), 'ae-state-serve-'));
  fixture = await buildFixtureStore(root);
  serve = await startServe(root);
  await mkdir(SCREENSHOTS, { recursive: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  // A CSP violation or a script error on any page is a bug of the page.
  page.on('console', (message) => {
    if (message.type() === 'error') consoleProblems.push(message.text());
  });
  page.on('pageerror', (error) => consoleProblems.push(error.message));
  page.on('dialog', (dialog) => {
    consoleProblems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
});

// Every test fails, with the reason, when there is no browser: none passes or is skipped silently.
beforeEach(() => {
  if (noBrowser !== null) throw noBrowser;
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

async function shot(name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** A link by its exact text (names sit in a <bdi> inside the link). */
function link(scope: string, text: string) {
  return page.locator(scope).getByRole('link', { name: text, exact: true });
}

async function xssMarker(): Promise<unknown> {
  return page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss);
}

describe('serve: pages in a real browser', () => {
  it('opens with the printed URL, drops the token from the address bar and lists every key as text', async () => {
    const response = await page.goto(serve.url);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${serve.origin}/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Keys');
    const keys = await page.locator('#keys tbody tr td:first-child').allTextContents();
    expect(keys).toEqual(['failure_phase-4', 'product_spec', QUOTE_KEY, SCRIPT_KEY, BIDI_KEY, 'user_spec'].sort());
    expect(await xssMarker()).toBeUndefined();
    expect(await page.locator('#keys img').count()).toBe(0);
    await shot('keys');

    await page.fill('input[name=q]', 'spec');
    await page.selectOption('select[name=phase]', 'phase-3');
    await page.selectOption('select[name=sort]', 'recent');
    await page.click('form.filters button');
    const filtered = await page.locator('#keys tbody tr td:first-child').allTextContents();
    // user_spec's newest version (the hook's refinement) is in phase-4; newest first.
    expect(filtered).toEqual(['product_spec', SCRIPT_KEY]);
    expect(new URL(page.url()).searchParams.get('phase')).toBe('phase-3');
  });

  it('clicks through key → version → diff, with the changes painted and the move shown as a move', async () => {
    await page.goto(`${serve.origin}/`);
    await link('#keys', 'user_spec').click();
    await expect(page.locator('h1').textContent()).resolves.toBe('user_spec');
    const versions = await page.locator('#versions tbody tr td:first-child').allTextContents();
    expect(versions).toEqual(['3', '2', '1']);
    expect(await page.locator('#versions tbody tr').first().textContent()).toContain('cegis-hook');
    await shot('key');

    await page.click('#versions tbody tr:has(td:first-child:text-is("1")) a.show-version');
    await expect(page.locator('#version-heading').textContent()).resolves.toMatch(/^Version 1 user_spec_/);
    // Collapsible: closing the top-level object hides its members.
    const top = page.locator('#version-data .json > details');
    await expect(top.getAttribute('open')).resolves.toBe('');
    await top.locator('> summary').click();
    await expect(top.getAttribute('open')).resolves.toBeNull();

    await page.click('#versions tbody tr:has(td:first-child:text-is("2")) a:text-is("diff")');
    await expect(page.locator('#diff-title').textContent()).resolves.toMatch(/v1 → v2/);
    expect(await page.locator('#diff-to .json .added').count()).toBeGreaterThan(0);
    expect(await page.locator('#diff-to .json .changed').count()).toBeGreaterThan(0);
    expect(await page.locator('#diff-from .json .moved').count()).toBeGreaterThan(0);
    expect(await page.locator('#diff-to .json .moved').count()).toBeGreaterThan(0);
    expect(await page.locator('#changes li.kind-moved').first().textContent()).toMatch(/^\/domain\/\d+ moved from \/domain\/\d+$/);
    const patch = JSON.parse((await page.locator('#patch').textContent())!) as Array<{ op: string }>;
    expect(patch.map((op) => op.op)).toEqual(expect.arrayContaining(['move', 'add', 'replace']));
    await shot('diff');
    await shot('diff-top', false);

    // The default comparison is the one the CLI makes: previous → newest.
    await page.goto(`${serve.origin}/key?key=user_spec`);
    await page.click('#diff-latest');
    await expect(page.locator('#diff-title').textContent()).resolves.toMatch(/v2 → v3/);
    const cli = await runCli(['--root', root, 'diff', '-k', 'user_spec', '--json']);
    const expected = (JSON.parse(cli.stdout) as { patch: unknown }).patch;
    expect(JSON.parse((await page.locator('#patch').textContent())!)).toEqual(expected);
  });

  it('shows a key with markup, quotes and right-to-left text, and data holding HTML, as text', async () => {
    for (const key of [SCRIPT_KEY, QUOTE_KEY, BIDI_KEY]) {
      await page.goto(`${serve.origin}/key?key=${encodeURIComponent(key)}`);
      await expect(page.locator('h1').textContent()).resolves.toBe(key);
    }
    await page.goto(`${serve.origin}/key?key=${encodeURIComponent(SCRIPT_KEY)}&v=1`);
    const data = (await page.locator('#version-data').textContent())!;
    expect(data).toContain('"<img src=x onerror=\\"window.__xss=2\\">"');
    expect(data).toContain('safe\\u202etxt.exe');
    expect(await page.locator('#version-data img, #version-data b').count()).toBe(0);
    expect(await page.locator('#versions td:has-text("<b>source</b>")').count()).toBe(1);
    expect(await xssMarker()).toBeUndefined();
    const download = page.waitForEvent('download');
    await page.click('#raw-download');
    const raw = JSON.parse(await readFile((await (await download).path())!, 'utf8'));
    expect(raw.note).toBe('<img src=x onerror="window.__xss=2">');
  });

  it('lists snapshots, shows one with its tar (the bytes of `export --snapshot`), and diffs two with links to key diffs', async () => {
    await page.goto(`${serve.origin}/`);
    await page.click('nav a:text-is("Snapshots")');
    const ids = await page.locator('#snapshots tbody tr td:first-child').allTextContents();
    expect(ids).toEqual([fixture.snapshots[1], fixture.snapshots[0]]);
    await shot('snapshots');

    await link('#snapshots', fixture.snapshots[0]).click();
    const entries = await page.locator('#entries tbody tr td:first-child').allTextContents();
    expect(entries).toEqual(expect.arrayContaining(['user_spec', SCRIPT_KEY]));
    await shot('snapshot');
    const download = page.waitForEvent('download');
    await page.click('#download-tar');
    const tar = await readFile((await (await download).path())!);
    const exported = join(root, 'exported.tar');
    expect((await runCli(['--root', root, 'export', '--snapshot', fixture.snapshots[0], '-o', exported])).code).toBe(0);
    expect(tar.equals(await readFile(exported))).toBe(true);

    await page.click('nav a:text-is("Snapshots")');
    await page.click('#snapshot-compare button');
    await expect(page.locator('#snapshot-diff-summary').textContent()).resolves.toMatch(/^1 added, 0 removed, 1 changed/);
    expect(await page.locator('#snapshot-diff tr.kind-added').textContent()).toContain('product_spec');
    await shot('snapshot-diff');
    await page.click('#snapshot-diff tr.kind-changed a.key-diff');
    await expect(page.locator('h1').textContent()).resolves.toBe(`Diff of ${SCRIPT_KEY}`);
    await expect(page.locator('#changes').textContent()).resolves.toContain('/extra added');
  });

  it('follows a failure to the hook run it started and the refined version that closed the loop', async () => {
    await page.click('nav a:text-is("Failures & CEGIS")');
    const rows = page.locator('#failures tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toMatch(/phase-4\s*validation\s*critical/);
    await shot('failures');

    await rows.first().locator('a.failure-link').click();
    await expect(page.locator('#failure-error').textContent()).resolves.toMatch(/^Error: Domain invariant violated: <user.email> unique/);
    await expect(page.locator('#refinement').textContent()).resolves.toMatch(/Closed: user_spec v3\s+saved \S+ by cegis-hook/);
    await expect(page.locator('#hook-runs tbody tr').first().textContent()).resolves.toMatch(/failure-validation.*exit 0/s);
    await expect(page.locator('#artifacts').textContent()).resolves.toBe('validation-report.json');
    await shot('failure');

    await page.click('#hook-runs a.hook-run-link');
    await expect(page.locator('#hook-status').textContent()).resolves.toBe('exit 0');
    await expect(page.locator('#hook-stderr').textContent()).resolves.toMatch(/cegis-refine: refined user_spec/);
    await shot('hook-run');

    await page.goBack();
    await page.click('#refinement-diff');
    await expect(page.locator('#diff-title').textContent()).resolves.toMatch(/v2 → v3/);
    await expect(page.locator('#changes').textContent()).resolves.toContain('/refinements');
  });

  it('shows health and runs a read-only fsck on request', async () => {
    await page.click('nav a:text-is("Health")');
    await expect(page.locator('#statistics').textContent()).resolves.toMatch(/Logical keys\s*6/);
    await expect(page.locator('#fsck-report').textContent()).resolves.toMatch(/No fsck run/);
    await page.click('#run-fsck');
    await expect(page.locator('#fsck-status').textContent()).resolves.toMatch(/^OK: 0 error\(s\), 0 warning\(s\)/);
    await shot('health');
  });

  it('updates an open page without a reload when another process commits', async () => {
    await page.goto(`${serve.origin}/`);
    await page.waitForSelector('#live.connected');
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const saved = await runCli(['--root', root, 'save', '-k', 'arrived_live', '-i', '-', '-p', 'phase-9'], { input: '{"a":1}' });
    expect(saved.code).toBe(0);
    await link('#keys', 'arrived_live').waitFor();
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await expect(page.locator('#live').textContent()).resolves.toMatch(/updated/);

    // A refresh keeps what the reader collapsed.
    await page.goto(`${serve.origin}/key?key=user_spec`);
    await page.waitForSelector('#live.connected');
    const top = page.locator('#version-data .json > details');
    await top.locator('> summary').click();
    await expect(top.getAttribute('open')).resolves.toBeNull();
    expect((await runCli(['--root', root, 'save', '-k', 'arrived_later', '-i', '-'], { input: '{"b":2}' })).code).toBe(0);
    await page.waitForSelector('#live.updated');
    await expect(page.locator('#version-data .json > details').getAttribute('open')).resolves.toBeNull();
    await expect(page.locator('#version-data .json > details > .member').first().isVisible()).resolves.toBe(false);
  });

  it('lets go of the live connection while a tab is hidden, so many open tabs never use up the browser\'s connections', async () => {
    // Chromium opens at most 6 connections to one host; each live page holds one while it listens.
    const tabs = await Promise.all(Array.from({ length: 6 }, () => context.newPage()));
    for (const tab of tabs) {
      await tab.goto(`${serve.origin}/snapshots`);
      await tab.waitForSelector('#live.connected');
      await tab.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
        document.dispatchEvent(new Event('visibilitychange'));
      });
    }
    const more = await context.newPage();
    const response = await more.goto(`${serve.origin}/health`, { timeout: 10_000 });
    expect(response?.status()).toBe(200);
    await more.waitForSelector('#live.connected');
    // Shown again, a tab listens again and catches up on what it missed.
    const back = tabs[0]!;
    expect((await runCli(['--root', root, 'snapshot', '-p', 'phase-4'])).code).toBe(0);
    await back.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await back.waitForSelector('#live.connected');
    await back.waitForSelector('#live.updated');
    await Promise.all([...tabs, more].map((tab) => tab.close()));
  });

  it('never logged a script error or a Content-Security-Policy violation', () => {
    expect(consoleProblems).toEqual([]);
  });
});

describe('serve: refusals in a real browser', () => {
  it('refuses a browser without the token', async () => {
    const stranger = await browser.newContext();
    const tab = await stranger.newPage();
    const response = await tab.goto(`${serve.origin}/key?key=user_spec`);
    expect(response?.status()).toBe(403);
    expect(await tab.textContent('body')).toMatch(/needs its token/);
    await stranger.close();
  });

  it('refuses a page reached through another host name (DNS rebinding), even with the token', async () => {
    const rebound = await browser.newContext();
    const tab = await rebound.newPage();
    const port = new URL(serve.origin).port;
    const response = await tab.goto(`http://rebound.test:${port}/?token=${serve.token}`);
    expect(response?.status()).toBe(421);
    expect(await tab.textContent('body')).toMatch(/Host header refused/);
    await rebound.close();
  });
});
