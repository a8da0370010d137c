// The web console in Debian's chromium against a real sluice-server (and a real managed edge):
// how it is served (CSP, caching, client routes), logging in and out, the forced password
// change after an admin reset, an ended session, and enrolling an edge by running the command
// the console shows.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { freePort } from '@sluice/test-kit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from './helpers/axe.ts';
import { launchBrowser, newPage } from './helpers/browser.ts';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import { type CommandResult, commandResult } from './helpers/command-result.ts';
import { ADMIN_PASSWORD, makeUser } from './helpers/console-users.ts';
import { addEdge, type ControlPlane, startControlPlane } from './helpers/control-plane.ts';
import { REPO_ROOT } from './helpers/edge-process.ts';
import { startManagedEdge } from './helpers/managed-edge-process.ts';
import { adminTokenOf, startServer } from './helpers/server-process.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { makeTempDir } from './helpers/temp-dir.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(runCleanup);

async function logIn(page: Page, plane: ControlPlane, user: string, password: string): Promise<void> {
  await page.goto(plane.server.apiUrl);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Runs a command line as a user would paste it into a shell, in `cwd`, with sluice-edge on PATH. */
function runShell(command: string, cwd: string): Promise<CommandResult> {
  const path = `${join(REPO_ROOT, 'node_modules', '.bin')}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  const child = spawn('bash', ['-c', command], {
    cwd,
    env: { ...process.env, PATH: path },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return commandResult(child, command, 30_000);
}

describe('the web console', () => {
  it('is served at / with a strict CSP, immutable hashed assets and client routes', async () => {
    const plane = await startControlPlane();
    const index = await fetch(`${plane.server.apiUrl}/`);
    expect(index.status).toBe(200);
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    // No inline script: every <script> has a src.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = /<script[^>]*src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, html).toMatch(/^\/assets\/index-[A-Za-z0-9_-]{6,}\.js$/);
    const asset = await fetch(`${plane.server.apiUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toContain('javascript');
    // A client route reloads into the same page; API paths stay API.
    const deep = await fetch(`${plane.server.apiUrl}/rules/r_123`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    const api = await fetch(`${plane.server.apiUrl}/v1/no-such-route`);
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({
      error: { code: 'not_found', message: 'no route GET /v1/no-such-route' },
    });
    const missing = await fetch(`${plane.server.apiUrl}/assets/index-nothere.js`);
    expect(missing.status).toBe(404);
  });

  it('shows a wrong password with its error code, and logs in and out', async ({ task }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    const { page } = await newPage(browser, task);
    await page.goto(plane.server.apiUrl);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await logIn(page, plane, 'root', 'not-the-password');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('unauthorized');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Edges' }).waitFor();
    expect(await page.getByTestId('who').textContent()).toBe('root (admin)');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    // The session is gone on the server too: a reload stays on the login page.
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Edges' }).count()).toBe(0);
  });

  it('after an ended session, logging in again returns to the page you were on', async ({ task }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    const { page, context } = await newPage(browser, task);
    await page.goto(`${plane.server.apiUrl}/account/password`);
    await page.getByLabel('User name').fill('root');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'Edges' }).click();
    await page.getByRole('heading', { name: 'Edges' }).waitFor();
    // The cookie goes (as when it expires); the edges page's next refresh is refused.
    await context.clearCookies();
    await page.getByText('Your session has ended (unauthorized)').waitFor();
    await page.getByLabel('User name').fill('root');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Edges' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/edges');
  });

  it('forces a password change at the first login with a temporary password', async ({ task }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'alice', 'first-password-1');
    const reset = await plane.api.post('/v1/users/alice/password-reset', {
      temporaryPassword: 'temporary-pw-1',
    });
    expect(reset.status, reset.text).toBe(204);
    const { page } = await newPage(browser, task);
    await logIn(page, plane, 'alice', 'temporary-pw-1');
    await page.getByRole('heading', { name: 'Change your password' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(await page.getByRole('heading', { name: 'Edges' }).count()).toBe(0);
    await page.getByLabel('Current (or temporary) password').fill('temporary-pw-1');
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('New password again').fill('short');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/bad_request.*newPassword/);
    await page.getByLabel('New password', { exact: true }).fill('alice-new-password');
    await page.getByLabel('New password again').fill('alice-new-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Edges' }).waitFor();
    // The new password is the one that logs in now.
    const login = await fetch(`${plane.server.apiUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice', password: 'alice-new-password' }),
    });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { mustChangePassword: boolean }).mustChangePassword).toBe(false);
  });

  it('enrolls an edge: the command shown, run as written, connects it and the panel turns green', async ({
    task,
  }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    const { page, context } = await newPage(browser, task);
    await logIn(page, plane, 'root', ADMIN_PASSWORD);
    await page.getByText('No edges yet').waitFor();
    await page.getByLabel('Edge name').fill('edge-web');
    await page.getByRole('button', { name: 'Make enrollment code' }).click();
    const command = (await page.getByTestId('enroll-command').textContent()) ?? '';
    expect(command).toMatch(/^sluice-edge enroll 'sluice:\/\/.+' --bundle \.\/sluice-edge\.bundle$/);
    expect(await page.getByTestId('enroll-uri').textContent()).toBe(
      /'(sluice:\/\/[^']+)'/.exec(command)?.[1],
    );
    expect(await page.getByTestId('enroll-status').textContent()).toContain('Waiting for edge-web');
    expect(await page.getByTestId('enrollment').getAttribute('class')).toBe('enrollment');
    // The copy button puts the command on the clipboard as shown.
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('button', { name: 'Copy the command' }).click();
    await page.getByText('Copied', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Copy the command' }).getAttribute('class')).toBe('copied');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(command);

    const dir = makeTempDir();
    const enrolled = await runShell(command, dir);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    await startManagedEdge(join(dir, 'sluice-edge.bundle'));

    await page.getByText('edge-web is connected.').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('enrollment').getAttribute('class')).toBe('enrollment connected');
    const row = page.locator('tr[data-edge="edge-web"]');
    expect(await row.getByTestId('edge-status').textContent()).toBe('connected');
    expect(await row.getByTestId('edge-rules').textContent()).toBe('0');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('renames, revokes and deletes an edge, each confirmation naming what goes with it', async ({ task }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    await addEdge(plane, 'edge-old');
    const port = await freePort();
    await plane.api.pushActive('edge-old', {
      name: 'kept',
      listen: `127.0.0.1:${port}`,
      targets: ['127.0.0.1:80'],
    });
    const { page } = await newPage(browser, task);
    await logIn(page, plane, 'root', ADMIN_PASSWORD);
    await page.locator('tr[data-edge="edge-old"]').getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name for edge-old').fill('edge-new');
    await page.getByRole('button', { name: 'Save' }).click();
    const row = page.locator('tr[data-edge="edge-new"]');
    await expect.poll(() => row.getByTestId('edge-rules').textContent()).toBe('1');
    expect((await plane.api.edge('edge-new')).name).toBe('edge-new');

    await row.getByRole('button', { name: 'Revoke edge-new' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('Revoke edge-new? Its session is closed');
    expect(await dialog.textContent()).toContain('its 1 rule(s) stay stored');
    await dialog.getByRole('button', { name: 'Revoke edge-new' }).click();
    await expect.poll(() => row.getByTestId('edge-status').textContent()).toBe('revoked');

    await row.getByRole('button', { name: 'Delete edge-new' }).click();
    expect(await page.getByRole('dialog').textContent()).toContain('Delete edge-new with its 1 rule(s)?');
    // Cancel leaves it; confirming deletes it with its rule.
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await plane.api.edges()).toHaveLength(1);
    await row.getByRole('button', { name: 'Delete edge-new' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete edge-new' }).click();
    await page.getByText('No edges yet').waitFor();
    expect(await plane.api.edges()).toEqual([]);
    expect(await plane.api.rules()).toEqual([]);
  });

  it("shows an edge's rules, and sets an owner's caps on it checked by the config's schema", async ({
    task,
  }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    await addEdge(plane, 'edge-caps');
    const port = await freePort();
    const rule = await plane.api.pushActive('edge-caps', {
      name: 'capped',
      listen: `127.0.0.1:${port}`,
      targets: ['127.0.0.1:80'],
    });
    const { page } = await newPage(browser, task);
    await logIn(page, plane, 'root', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'edge-caps' }).click();
    await page.getByRole('heading', { name: 'Edge edge-caps' }).waitFor();
    await page.getByRole('link', { name: 'capped' }).waitFor();
    await expect.poll(() => page.getByTestId('owner-caps').textContent()).toBe(`${rule.owner}: no caps`);
    const form = page.getByRole('form', { name: 'Set owner caps' });
    await form.getByLabel('Owner').fill(rule.owner);
    await form.getByLabel('bandwidth', { exact: true }).fill('fast');
    await form.getByRole('button', { name: 'Set caps' }).click();
    await expect
      .poll(() => form.getByRole('alert').textContent())
      .toMatch(/^bad_request limits\.bandwidth: /);
    await form.getByLabel('bandwidth', { exact: true }).fill('10Mbit');
    await form.getByLabel('max connections').fill('5');
    await form.getByRole('button', { name: 'Set caps' }).click();
    await expect
      .poll(() => page.getByTestId('owner-caps').textContent())
      .toBe(`${rule.owner}: bandwidth 10Mbit, max_connections 5`);
    const stored = await plane.api.get<{ limits: unknown }>(
      `/v1/edges/edge-caps/owners/${rule.owner}/limits`,
    );
    expect(stored.body.limits).toEqual({ bandwidth: '10Mbit', max_connections: 5 });
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it("runs the README's password command as written, and that password logs the admin in", async ({
    task,
  }) => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## The web console'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const commands = block.split('\n').filter((line) => line.trim() !== '');
    expect(commands).toHaveLength(1);
    const command = commands[0]!;
    const password = /^echo '([^']+)' \| /.exec(command)?.[1];
    expect(password, command).toBeDefined();
    // The command names ./sluice-data, so the server runs there (as in the README's walkthrough).
    const dataDir = join(REPO_ROOT, 'sluice-data');
    if (existsSync(dataDir))
      throw new Error(`${dataDir} already exists; the README's commands write there. Move it away.`);
    deferCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await startServer({ dataDir });
    await adminTokenOf(server);
    const ran = await runShell(command, REPO_ROOT);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('password set for admin');
    const { page } = await newPage(browser, task);
    await page.goto(server.apiUrl);
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(password!);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Edges' }).waitFor();
    expect(await page.getByTestId('who').textContent()).toBe('admin (admin)');
  });

  it('follows the system theme, light or dark', async ({ task }) => {
    const plane = await startControlPlane();
    const background = async (colorScheme: 'light' | 'dark') => {
      const { page } = await newPage(browser, task, { colorScheme });
      await page.goto(plane.server.apiUrl);
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      return page.evaluate('getComputedStyle(document.body).backgroundColor');
    };
    expect(await background('light')).toBe('rgb(255, 255, 255)');
    expect(await background('dark')).toBe('rgb(13, 17, 23)');
  });

  it("updates an edge's live throughput without a reload", async ({ task }) => {
    const plane = await startControlPlane({ configToml: 'stats_interval_secs = 0.3\n' });
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    await addEdge(plane, 'edge-live');
    const target = await startEchoTarget();
    const port = await freePort();
    await plane.api.pushActive('edge-live', {
      name: 'echo',
      listen: `127.0.0.1:${port}`,
      targets: [`127.0.0.1:${target.port}`],
    });
    const { page } = await newPage(browser, task);
    await logIn(page, plane, 'root', ADMIN_PASSWORD);
    const row = page.locator('tr[data-edge="edge-live"]');
    expect(await row.getByTestId('edge-in').textContent()).toBe('0 B/s');
    // A mark in the page's memory: a reload would lose it.
    await page.evaluate('window.sluiceTestMark = 1');
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('data', () => {});
    const writer = setInterval(() => socket.write(Buffer.alloc(64 * 1024, 0x61)), 50);
    try {
      await expect
        .poll(() => row.getByTestId('edge-in').textContent(), { timeout: 10_000 })
        .toMatch(/KiB\/s|MiB\/s/);
      expect(await row.getByTestId('edge-out').textContent()).toMatch(/B\/s$/);
    } finally {
      clearInterval(writer);
      socket.destroy();
    }
    expect(await page.evaluate('window.sluiceTestMark')).toBe(1);
  });
});
