import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { onCleanup } from './cleanup.js';
import { freshDir } from './temp.js';

/** Where Debian's `chromium` package puts the browser; `CHROMIUM_PATH` points elsewhere. */
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Headless, no sandbox (containers run as root), and nothing that reaches the network by itself. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Launches the machine's Chromium (CHROMIUM_PATH, else Debian's /usr/bin/chromium) headless through
 * puppeteer-core, with a fresh profile in a temp dir; it is closed after the test. Fails saying how to
 * install it when it is missing.
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM;
  if (!existsSync(executablePath)) {
    throw new Error(`No Chromium at ${executablePath}: install it with \`apt-get install -y chromium\` (Debian/Ubuntu), or set CHROMIUM_PATH`);
  }
  const browser = await puppeteer.launch({
    executablePath,
    // 'shell' makes puppeteer pass plain `--headless` (Chromium's current headless mode) rather than `--headless=new`.
    headless: 'shell',
    args: CHROMIUM_FLAGS,
    userDataDir: freshDir('chromium'),
  });
  onCleanup(() => browser.close());
  return browser;
}
