// Rules in the web console, in Debian's chromium against a real sluice-server: a rule pushed
// through the form goes active on a real managed edge, carries traffic, and its page shows the
// live chart move and the counters equal to the bytes sent; validation errors at their field
// (the browser's, from the server's schema, and the server's own); and a list of 10,000 rules
// (inserted through the store of an in-process server) that stays virtual and filters.

import { connect } from 'node:net';
import { startTestServer } from '@sluice/server/test-harness';
import { freePort, pollUntil } from '@sluice/test-kit';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from './helpers/axe.ts';
import { launchBrowser, logIn, newPage } from './helpers/browser.ts';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import { ADMIN_PASSWORD, makeUser } from './helpers/console-users.ts';
import { addEdge, startControlPlane } from './helpers/control-plane.ts';
import { holdPort } from './helpers/foreign-listener.ts';
import { pauseProcess } from './helpers/managed-edge-process.ts';
import { startEchoTarget } from './helpers/target-server.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(runCleanup);

/** Sends `bytes` through an echo rule in chunks over `ms`, reads them all back, and closes. */
async function echoThrough(port: number, bytes: number, ms: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= bytes) resolve();
    });
    socket.once('error', reject);
  });
  const chunks = 8;
  if (bytes % chunks !== 0) throw new Error(`echoThrough: ${bytes} is not a multiple of ${chunks}`);
  const chunk = Buffer.alloc(bytes / chunks, 0x61);
  for (let i = 0; i < chunks; i++) {
    socket.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, ms / chunks));
  }
  await done;
  socket.end();
  await new Promise((resolve) => socket.once('close', resolve));
}

describe('rules in the web console', () => {
  it('pushes a rule through the form, sees it go active, and its live chart and counters follow the traffic', async ({
    task,
  }) => {
    const plane = await startControlPlane({ configToml: 'stats_interval_secs = 0.3\n' });
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    await addEdge(plane, 'edge-a');
    const target = await startEchoTarget();
    const listenPort = await freePort();
    const { page } = await newPage(browser, task);
    await logIn(page, plane.server.apiUrl, 'root', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await page.getByText('No rules yet').waitFor();
    await page.getByRole('link', { name: 'New rule' }).click();
    await page.getByLabel('Name', { exact: true }).fill('echo');
    await page.getByLabel('Listen', { exact: true }).fill(`127.0.0.1:${listenPort}`);
    await page.getByLabel('Targets (one per line, 1 to 8)').fill(`127.0.0.1:${target.port}`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Push rule' }).click();
    await page.getByRole('heading', { name: 'echo' }).waitFor();
    await expect.poll(() => page.getByTestId('rule-state').textContent()).toBe('active');
    await page.getByText('Live: updates with every edge report.').waitFor();

    const sent = 512 * 1024;
    await echoThrough(listenPort, sent, 1_500);
    // The counters equal the bytes sent (echoed back: the same out as in).
    await expect
      .poll(() => page.getByTestId('bytes-in').getAttribute('data-value'), { timeout: 10_000 })
      .toBe(String(sent));
    await expect
      .poll(() => page.getByTestId('bytes-out').getAttribute('data-value'), { timeout: 10_000 })
      .toBe(String(sent));
    expect(await page.getByTestId('connections').textContent()).toBe('1');
    await page.getByText('No connection rejected.').waitFor();
    const live = page.getByRole('img', { name: 'Live throughput in and out' });
    expect(Number(await live.getAttribute('data-points'))).toBeGreaterThan(1);
    expect(Number(await live.getAttribute('data-peak'))).toBeGreaterThan(0);
    // The server agrees with what the page shows.
    const [rule] = await plane.api.rules();
    const stats = await plane.api.stats(rule!.id);
    expect(stats.bytesIn).toBe(sent);
    expect(await seriousA11yViolations(page)).toEqual([]);

    // The traffic history holds the same bytes in 1m buckets, once the range is read again:
    // one bucket, or two when the 1.5 s transfer crossed a minute boundary.
    await page.getByLabel('Range').selectOption('24h');
    await expect
      .poll(() => page.getByTestId('history-totals').textContent(), { timeout: 10_000 })
      .toMatch(/^In 512 KiB, out 512 KiB in [12] bucket\(s\) of 1m$/);

    // Editing pushes the next revision, which the edge acks.
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit rule' }).waitFor();
    expect(await page.getByLabel('Listen', { exact: true }).inputValue()).toBe(`127.0.0.1:${listenPort}`);
    await page.getByLabel('Connect timeout (ms)').fill('1500');
    await page.getByLabel('Max connections').fill('1');
    await page.getByRole('button', { name: 'Save and push' }).click();
    await page.getByText('revision 2').waitFor();
    await expect.poll(() => page.getByTestId('rule-state').textContent()).toBe('active');
    expect((await plane.api.rule(rule!.id)).rule).toMatchObject({
      connect_timeout_ms: 1500,
      limits: { max_connections: 1 },
    });

    // One connection held, a second refused over max_connections: the page says why.
    const held = connect({ host: '127.0.0.1', port: listenPort });
    held.on('error', () => {});
    deferCleanup(() => held.destroy());
    await new Promise((resolve) => held.once('connect', resolve));
    await expect.poll(() => page.getByTestId('active').textContent(), { timeout: 10_000 }).toBe('1');
    const refused = connect({ host: '127.0.0.1', port: listenPort });
    refused.on('error', () => {});
    refused.resume();
    await new Promise((resolve) => refused.once('close', resolve));
    await expect
      .poll(() => page.getByTestId('rejects-by-reason').textContent(), { timeout: 10_000 })
      .toMatch(/rule_max_connections\s*1/);
    held.destroy();

    // The list shows it active; removing it (after a confirmation naming it) empties the list.
    await page.getByRole('button', { name: 'Remove echo' }).click();
    await page
      .getByText(`Remove echo from edge-a? The edge stops listening on 127.0.0.1:${listenPort}`)
      .waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove echo' }).click();
    await page.getByText('No rules yet').waitFor();
    expect(await plane.api.rules()).toEqual([]);
  });

  it('shows a validation error at its field, from the browser and from the server', async ({ task }) => {
    const plane = await startControlPlane();
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    await addEdge(plane, 'edge-a');
    const [portA, portB] = [await freePort(), await freePort()];
    const { page } = await newPage(browser, task);
    await logIn(page, plane.server.apiUrl, 'root', ADMIN_PASSWORD);
    await page.goto(`${plane.server.apiUrl}/rules/new`);
    await page.getByLabel('Name', { exact: true }).fill('web');
    await page.getByLabel('Listen', { exact: true }).fill('127.0.0.1:9000-8000');
    await page.getByLabel('Targets (one per line, 1 to 8)').fill('127.0.0.1:80');
    await page.getByLabel('Max connections').fill('many');
    await page.getByRole('button', { name: 'Push rule' }).click();
    await expect.poll(() => page.getByTestId('error-listen').textContent()).toMatch(/^listen: .*inverted/);
    expect(await page.getByTestId('error-limits.max_connections').textContent()).toMatch(
      /limits\.max_connections/,
    );
    expect(await page.getByLabel('Listen', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    // Nothing reached the server.
    expect(await plane.api.rules()).toEqual([]);

    // A name the server already holds: its code and message at the name field.
    await plane.api.pushActive('edge-a', {
      name: 'web',
      listen: `127.0.0.1:${portA}`,
      targets: ['127.0.0.1:80'],
    });
    await page.getByLabel('Listen', { exact: true }).fill(`127.0.0.1:${portB}`);
    await page.getByLabel('Max connections').fill('');
    await page.getByRole('button', { name: 'Push rule' }).click();
    await expect.poll(() => page.getByTestId('error-name').textContent()).toMatch(/^name_taken: /);

    // A port another process holds: the edge refuses, and port_in_use shows at the listen field.
    const held = await holdPort(await freePort(), false);
    await page.getByLabel('Name', { exact: true }).fill('web-2');
    await page.getByLabel('Listen', { exact: true }).fill(`127.0.0.1:${held.port}`);
    await page.getByRole('button', { name: 'Push rule' }).click();
    await expect
      .poll(() => page.getByTestId('error-listen').textContent(), { timeout: 10_000 })
      .toMatch(/^activation_failed: port_in_use: edge edge-a could not activate/);

    // A page for a rule that does not exist shows the API's error, not a blank page.
    await page.goto(`${plane.server.apiUrl}/rules/r_nothere`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^not_found /);
  });

  it('lists 10,000 rules virtually and filters them', async ({ task }) => {
    const test = await startTestServer();
    deferCleanup(() => test.stop());
    const made = await test.request('POST', '/v1/users', {
      name: 'root',
      password: ADMIN_PASSWORD,
      role: 'admin',
    });
    expect(made.status).toBe(201);
    const { store } = test.server;
    const edgeA = (await store.edges.createEnrollment('bulk-a', 600_000, null)).edge;
    const edgeB = (await store.edges.createEnrollment('bulk-b', 600_000, null)).edge;
    const COUNT = 10_000;
    let failedOnB = 0;
    for (let i = 0; i < COUNT; i++) {
      const edge = i % 2 === 0 ? edgeA : edgeB;
      const name = `rule-${String(i).padStart(5, '0')}`;
      const rule = await store.rules.insert({
        edgeId: edge.id,
        owner: i % 3 === 0 ? 'alice' : 'bob',
        name,
        body: {
          name,
          listen: `127.0.0.1:${10_000 + i}`,
          targets: ['127.0.0.1:80'],
          protocol: i % 5 === 0 ? 'udp' : 'tcp',
        },
      });
      if (i % 7 === 0) {
        await store.rules.setState(edge.id, rule.id, 1, 'failed', 'port_in_use', 'held');
        if (edge === edgeB) failedOnB++;
      }
    }
    const { page } = await newPage(browser, task);
    await logIn(page, test.apiUrl, 'root', ADMIN_PASSWORD);
    const started = Date.now();
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('rule-count').textContent(), { timeout: 20_000 })
      .toBe('10000 rules');
    const renderMs = Date.now() - started;
    const rows = page.locator('li.rule-row');
    // Virtual: only the rows in view (and a few around) are in the DOM.
    expect(await rows.count()).toBeLessThan(60);
    expect(await rows.first().getAttribute('data-rule')).toBe('rule-00000');
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Search, timed in the page from the keystroke to the next frame.
    // (A string: the page's DOM types are not this file's.)
    const filterMs = (await page.evaluate(`(async () => {
      const input = document.querySelector('input[type="search"]');
      const t0 = performance.now();
      input.value = 'rule-07777';
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
      return performance.now() - t0;
    })()`)) as number;
    await expect.poll(() => page.getByTestId('rule-count').textContent()).toBe('1 of 10000 rules');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-rule')).toBe('rule-07777');

    // Edge and state together; the URL keeps the filters.
    await page.getByRole('searchbox').fill('');
    await page.getByLabel('Edge').selectOption({ label: 'bulk-b' });
    await page.getByLabel('State').selectOption('failed');
    await expect.poll(() => page.getByTestId('rule-count').textContent()).toBe(`${failedOnB} of 10000 rules`);
    for (const row of await rows.all()) {
      expect(await row.textContent()).toContain('bulk-b');
      expect(await row.textContent()).toContain('failed: port_in_use');
    }
    expect(new URL(page.url()).searchParams.get('state')).toBe('failed');
    await page.getByLabel('State').selectOption('');
    await page.getByLabel('Protocol').selectOption('udp');
    await page.getByLabel('Owner').selectOption('alice');
    // i odd (bulk-b), i % 5 == 0 and i % 3 == 0: i = 15, 45, 75, ... below 10,000.
    const expected = Array.from({ length: COUNT }, (_, i) => i).filter(
      (i) => i % 2 === 1 && i % 5 === 0 && i % 3 === 0,
    );
    await expect
      .poll(() => page.getByTestId('rule-count').textContent())
      .toBe(`${expected.length} of 10000 rules`);
    // Scrolling to the end brings the last match into the DOM.
    await page.getByRole('region', { name: 'Rules' }).evaluate((list) => list.scrollTo(0, list.scrollHeight));
    const last = `rule-${String(expected.at(-1)).padStart(5, '0')}`;
    await pollUntil(
      async () => ((await page.locator(`li[data-rule="${last}"]`).count()) === 1 ? true : undefined),
      {
        timeoutMs: 5_000,
        what: `${last} rendered after scrolling to the end`,
      },
    );
    console.log(
      `rules list at ${COUNT} rules: first render ${renderMs} ms (login to list, with the fetch), search ${filterMs.toFixed(1)} ms`,
    );
  });

  it('shows a rule pending while its edge is stalled, then active once the edge answers', async ({
    task,
  }) => {
    const plane = await startControlPlane({ configToml: 'ack_timeout_ms = 1000\n' });
    await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
    const edge = await addEdge(plane, 'edge-slow');
    const listenPort = await freePort();
    const { page } = await newPage(browser, task);
    await logIn(page, plane.server.apiUrl, 'root', ADMIN_PASSWORD);
    await page.goto(`${plane.server.apiUrl}/rules/new`);
    await page.getByLabel('Name', { exact: true }).fill('late');
    await page.getByLabel('Listen', { exact: true }).fill(`127.0.0.1:${listenPort}`);
    await page.getByLabel('Targets (one per line, 1 to 8)').fill('127.0.0.1:80');
    const resume = pauseProcess(edge.process);
    await page.getByRole('button', { name: 'Push rule' }).click();
    await page.getByRole('heading', { name: 'late' }).waitFor();
    expect(await page.getByTestId('rule-state').textContent()).toBe('pending');
    await page.getByText('Waiting for edge-slow to acknowledge revision 1').waitFor();
    resume();
    await expect.poll(() => page.getByTestId('rule-state').textContent(), { timeout: 15_000 }).toBe('active');
    expect(await page.getByText('Waiting for edge-slow').count()).toBe(0);
  });
});
