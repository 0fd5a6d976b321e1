import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { onCleanup } from './cleanup.js';
import { freshDir } from './temp.js';

/** Debian's chromium (`apt-get install -y chromium`); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A real headless Chromium (puppeteer-core), closed after the test: no sandbox (containers), no GPU, and
 * nothing of its own on the network (no background updates, sync or component downloads), with a fresh
 * profile. Fails, saying how to install it, when the browser is missing.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`);
  }
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${freshDir('chromium')}`,
    ],
  });
  onCleanup(() => browser.close());
  return browser;
}
