// Tenancy in the web console, in Debian's chromium against a real sluice-server and a real
// managed edge: an admin makes a user with a grant and a quota through the console; the user
// logs in, sees only their own rules, is refused outside the grant with the reason at the
// field, pushes inside it, and watches the quota bar move with the traffic. Also tokens (shown
// once, revoked) and the audit log's filter.

import { connect } from 'node:net';
import { freePort } from '@sluice/test-kit';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from './helpers/axe.ts';
import { launchBrowser, logIn, newPage } from './helpers/browser.ts';
import { runCleanup } from './helpers/cleanup.ts';
import { ADMIN_PASSWORD, makeUser } from './helpers/console-users.ts';
import { addEdge, startControlPlane } from './helpers/control-plane.ts';
import { startEchoTarget } from './helpers/target-server.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(runCleanup);

/** Writes `bytes` through an echo rule, reads them back and closes. */
async function echoThrough(port: number, bytes: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port });
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= bytes) resolve();
    });
    socket.once('error', reject);
    socket.write(Buffer.alloc(bytes, 0x62));
  });
  socket.end();
  await new Promise((resolve) => socket.once('close', resolve));
}

describe('tenancy in the web console', () => {
  it('a user with a grant and a quota sees only their own, is refused outside the grant at the field, and sees the quota move', async ({
    task,
  }) => {
    // bob's rule targets an echo server on loopback, which users may not target by default.
    const plane = await startControlPlane({
      configToml: 'stats_interval_secs = 0.3\nuser_targets_allowed = ["127.0.0.0/8"]\n',
    });
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    await addEdge(plane, 'edge-a');
    const target = await startEchoTarget();
    const [granted, outside, adminPort] = [await freePort(), await freePort(), await freePort()];
    // The admin's own rule, which bob must not see.
    await plane.api.pushActive('edge-a', {
      name: 'admins-own',
      listen: `127.0.0.1:${adminPort}`,
      targets: ['127.0.0.1:80'],
    });

    const { page: admin } = await newPage(browser, task);
    await logIn(admin, plane.server.apiUrl, 'root', ADMIN_PASSWORD);
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.getByLabel('User name').fill('bob');
    await admin.getByLabel('Password (empty: tokens only)').fill('bob-password-1');
    await admin.getByRole('button', { name: 'Make user' }).click();
    await admin.getByRole('link', { name: 'bob' }).click();
    await admin.getByRole('heading', { name: 'User bob' }).waitFor();
    await admin.getByText('No grants: this user may forward nothing.').waitFor();
    const grantForm = admin.getByRole('form', { name: 'Grant bob' });
    await grantForm.getByLabel('Edge').selectOption({ label: 'edge-a' });
    await grantForm.getByLabel('Ports from').fill(String(granted));
    await grantForm.getByLabel('to').fill(String(granted));
    await grantForm.getByRole('button', { name: 'Add grant' }).click();
    await expect
      .poll(() => admin.getByTestId('grant').textContent())
      .toContain(`edge-a, port ${granted}, tcp`);
    const quotaForm = admin.getByRole('form', { name: 'Set a quota for bob' });
    await quotaForm.getByLabel('Monthly size').fill('ten');
    await quotaForm.getByRole('button', { name: 'Set quota' }).click();
    await expect.poll(() => quotaForm.getByRole('alert').textContent()).toContain('bad_request monthlyBytes');
    await quotaForm.getByLabel('Monthly size').fill('10MiB');
    await quotaForm.getByRole('button', { name: 'Set quota' }).click();
    await expect.poll(() => admin.getByTestId('quota-used').textContent()).toBe('0 B of 10.0 MiB');
    expect(await seriousA11yViolations(admin)).toEqual([]);

    const { page } = await newPage(browser, {
      name: `${task.name} (bob)`,
      get result() {
        return task.result;
      },
    });
    await logIn(page, plane.server.apiUrl, 'bob', 'bob-password-1');
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await page.getByText('No rules yet').waitFor();
    await page.getByRole('link', { name: 'New rule' }).click();
    await page.getByLabel('Name', { exact: true }).fill('bobs');
    await page.getByLabel('Listen', { exact: true }).fill(`127.0.0.1:${outside}`);
    await page.getByLabel('Targets (one per line, 1 to 8)').fill(`127.0.0.1:${target.port}`);
    await page.getByRole('button', { name: 'Push rule' }).click();
    await expect
      .poll(() => page.getByTestId('error-listen').textContent())
      .toBe(`not_granted: port: no grant of bob on edge edge-a holds listen port ${outside}`);
    await page.getByLabel('Listen', { exact: true }).fill(`127.0.0.1:${granted}`);
    await page.getByRole('button', { name: 'Push rule' }).click();
    await expect.poll(() => page.getByTestId('rule-state').textContent()).toBe('active');

    const sent = 1024 * 1024;
    await echoThrough(granted, sent);
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(await page.getByTestId('grant').textContent()).toContain(`edge-a, port ${granted}, tcp`);
    const meter = page.getByRole('meter', { name: 'Quota used on edge-a' });
    // Usage counts both directions: the bytes sent and their echo.
    await expect.poll(() => meter.getAttribute('value'), { timeout: 15_000 }).toBe(String(2 * sent));
    expect(await meter.getAttribute('max')).toBe(String(10 * 1024 * 1024));
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Bob sees only his own rule.
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await expect.poll(() => page.getByTestId('rule-count').textContent()).toBe('1 rules');
    expect(await page.locator('li.rule-row').getAttribute('data-rule')).toBe('bobs');

    // The admin's audit log, filtered to bob, holds his refused push.
    await admin.getByRole('link', { name: 'Audit log' }).click();
    await admin.getByLabel('User', { exact: true }).fill('bob');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await expect
      .poll(async () =>
        (await admin.getByTestId('audit-entry').allTextContents()).some((text) =>
          /bobrule\.push.*not_granted/.test(text),
        ),
      )
      .toBe(true);
    expect(await seriousA11yViolations(admin)).toEqual([]);
  });

  it('makes a token shown once, which works until it is revoked', async ({ task }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'carol', 'carol-password-1');
    const { page } = await newPage(browser, task);
    await logIn(page, plane.server.apiUrl, 'carol', 'carol-password-1');
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByText('No tokens.').waitFor();
    await page.getByLabel('Token name').fill('laptop');
    await page.getByRole('button', { name: 'Make token' }).click();
    const token = (await page.getByTestId('new-token').textContent()) ?? '';
    const me = () =>
      fetch(`${plane.server.apiUrl}/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me()).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke token laptop' }).click();
    await page
      .getByText('Revoke the token laptop? Every client that uses it is refused from now on.')
      .waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke token laptop' }).click();
    await expect.poll(() => page.locator('tr[data-token="laptop"] td').last().textContent()).toBe('revoked');
    expect((await me()).status).toBe(401);
    // Shown once: after a reload the secret is nowhere on the page.
    await page.reload();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(await page.content()).not.toContain(token);
  });

  it('disables a user and sets a temporary password from the users page', async ({ task }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    await makeUser(plane.api, 'dave', 'dave-password-1');
    const { page } = await newPage(browser, task);
    await logIn(page, plane.server.apiUrl, 'root', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Users' }).click();
    const row = page.locator('tr[data-user="dave"]');
    await row.getByRole('button', { name: 'Disable dave' }).click();
    await expect.poll(() => row.getByTestId('user-state').textContent()).toBe('disabled');
    expect(await seriousA11yViolations(page)).toEqual([]);
    const login = (password: string) =>
      fetch(`${plane.server.apiUrl}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'dave', password }),
      });
    expect((await login('dave-password-1')).status).toBe(401);
    await row.getByRole('button', { name: 'Enable dave' }).click();
    await row.getByRole('button', { name: 'Reset password of dave' }).click();
    await row.getByLabel('Temporary password').fill('temp-password-9');
    await row.getByRole('button', { name: 'Set' }).click();
    await expect.poll(() => row.getByTestId('user-state').textContent()).toBe('must change password');
    const answer = await login('temp-password-9');
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { mustChangePassword: boolean }).mustChangePassword).toBe(true);
  });

  it('pages through the audit log with Older and Newer', async ({ task }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    // 60 enrollment codes: 60 audited changes besides the user made above.
    for (let i = 0; i < 60; i++) {
      const made = await plane.api.post('/v1/enrollments', { edge: `edge-${i}` });
      expect(made.status).toBe(201);
    }
    const { page } = await newPage(browser, task);
    await logIn(page, plane.server.apiUrl, 'root', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Audit log' }).click();
    const rows = page.getByTestId('audit-entry');
    await expect.poll(() => rows.count()).toBe(50);
    const ids = async () =>
      await rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-id'))));
    const first = await ids();
    expect(first).toEqual([...first].sort((a, b) => b - a));
    await page.getByRole('button', { name: 'Older' }).click();
    await expect.poll(async () => (await ids())[0]).toBeLessThan(Math.min(...first));
    const second = await ids();
    // The second page holds the rest of what the API has, down to the oldest.
    const all = await plane.api.ok<{ entries: { id: number }[] }>('/v1/audit?limit=1000');
    expect(all.entries.length).toBeGreaterThan(60);
    expect(second).toEqual(all.entries.slice(50).map((entry) => entry.id));
    expect(await page.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Newer' }).click();
    await expect.poll(ids).toEqual(first);
  });

  it('works with the keyboard alone: log in and move between pages', async ({ task }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    const { page } = await newPage(browser, task);
    await page.goto(plane.server.apiUrl);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.type('root');
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Edges' }).waitFor();
    // Tab from the top of the page: the brand link, then Edges, then Rules.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Rules');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Rules' }).waitFor();
  });
});
