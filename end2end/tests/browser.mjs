// Launches Debian's Chromium through playwright-core, kept on this machine (no downloads, no outside hosts),
// and collects console errors so every test can assert there were none.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const baseUrl = process.env.CERTDESK_E2E_URL ?? 'http://127.0.0.1:3000';
export const screenshotDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');

// playwright gives every launch a fresh temporary profile of its own.
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1',
    ],
  });
  return browser;
}

// A page whose console errors and uncaught exceptions are recorded in `errors`. Chromium's "Failed to load
// resource" lines name no URL, so failed loads are recorded from the responses instead: certdesk's own
// answers of 500 and above always count; 4xx are expected in some tests and are checked there.
export async function openPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('response', (response) => {
    if (response.status() >= 500 && response.url().startsWith(baseUrl)) errors.push(`${response.status()} ${response.url()}`);
  });
  return { context, page, errors };
}

// Resolves once the wasm has hydrated the whole page, a lazy route's chunk included (the entry point marks
// `<html data-hydrated>` when hydration has finished).
export async function waitForHydration(page) {
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 15_000 });
}

export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}
