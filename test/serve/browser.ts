/**
 * The browser of the web view tests: Debian's chromium (never a downloaded
 * build), headless, driven by playwright-core. Without it the tests fail and
 * say how to install it, rather than passing without a browser.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.AE_STATE_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // A name that resolves to this machine, to play a DNS rebinding attack.
  '--host-resolver-rules=MAP rebound.test 127.0.0.1',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No browser for the web view tests: ${CHROMIUM} does not exist. Install Debian's chromium package (apt-get install -y chromium) or set AE_STATE_CHROMIUM to a Chromium executable.`,
    );
  }
  // playwright-core gives each launch a fresh temporary profile (user data dir).
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}
