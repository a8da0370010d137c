// Debian's chromium driven by playwright-core (which downloads no browser of its own): one
// browser per test file, a fresh context (cookies, storage) per test with a trace recording,
// and on a failed test a screenshot and the trace saved under test-results/web/ as artifacts.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { deferCleanup } from './cleanup.ts';
import { REPO_ROOT } from './edge-process.ts';

export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-results', 'web');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium)`);
  }
  const index = join(REPO_ROOT, 'apps', 'web', 'dist', 'index.html');
  if (!existsSync(index)) {
    throw new Error(`the web console is not built (no ${index}): ./run builds it before it runs the tests`);
  }
  // --no-sandbox: the tests run as root, where chromium's sandbox refuses to start.
  // --disable-dev-shm-usage: containers often have a small /dev/shm, which crashes chromium.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** What newPage needs of vitest's test context: the test's name and, after it ran, its state. */
interface RunningTest {
  readonly name: string;
  readonly result?: { readonly state: string } | undefined;
}

/**
 * A new page in a new context for the running test (vitest's `task`), with a trace recording;
 * if the test fails, its screenshot and trace go to test-results/web/NAME.{png,zip}. The cleanup
 * runs in afterEach, when the result is known and the page is still open.
 */
export async function newPage(
  browser: Browser,
  test: RunningTest,
  options: { colorScheme?: 'light' | 'dark' } = {},
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  await context.tracing.start({ screenshots: true, snapshots: true });
  const page = await context.newPage();
  const file = test.name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 80);
  deferCleanup(async () => {
    if (test.result?.state === 'fail') {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, `${file}.png`), fullPage: true }).catch(() => {});
      await context.tracing.stop({ path: join(ARTIFACTS, `${file}.zip`) }).catch(() => {});
    }
    await context.close();
  });
  return { page, context };
}

/** Logs in through the console's own form at `url`, and waits for the edges page. */
export async function logIn(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Edges' }).waitFor();
}
