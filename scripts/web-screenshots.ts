// The web console's screenshots for docs/ and its figures: a real sluice-server and two real
// managed edges (one left unconnected), rules carrying live echo traffic, driven in Debian's
// chromium. Prints the initial JavaScript (gzipped), the edges page's time to interactive on
// loopback, and writes docs/web-console-edges.png and docs/web-console-rule.png.

import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { freePort } from '@sluice/test-kit';
import { launchBrowser } from '../test/helpers/browser.ts';
import { runCleanup } from '../test/helpers/cleanup.ts';
import { ADMIN_PASSWORD, makeUser } from '../test/helpers/console-users.ts';
import { addEdge, enrollmentViaApi, startControlPlane } from '../test/helpers/control-plane.ts';
import { REPO_ROOT } from '../test/helpers/edge-process.ts';
import { startEchoTarget } from '../test/helpers/target-server.ts';

const DIST = join(REPO_ROOT, 'apps', 'web', 'dist');
const DOCS = join(REPO_ROOT, 'docs');

function initialJsGzipBytes(): number {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script[^>]*src="\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
  return scripts.reduce((sum, file) => sum + gzipSync(readFileSync(join(DIST, file))).length, 0);
}

/** Echoes `rate` bytes per second through a port until `stop` is set. */
function echoLoad(port: number, bytesPerTick: number, until: { stop: boolean }): void {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('data', () => {});
  socket.on('error', () => {});
  const tick = setInterval(() => {
    if (until.stop) {
      clearInterval(tick);
      socket.end();
      return;
    }
    socket.write(Buffer.alloc(bytesPerTick + Math.floor(Math.random() * bytesPerTick), 0x63));
  }, 100);
}

try {
  const plane = await startControlPlane({ configToml: 'stats_interval_secs = 0.5\n' });
  await makeUser(plane.api, 'root', ADMIN_PASSWORD, 'admin');
  await addEdge(plane, 'edge-eu-1');
  await enrollmentViaApi(plane, 'edge-us-1');
  const target = await startEchoTarget();
  const ports = [await freePort(), await freePort(), await freePort()];
  const names = ['web', 'api', 'ssh-bastion'];
  const rules = [];
  for (let i = 0; i < names.length; i++) {
    rules.push(
      await plane.api.pushActive('edge-eu-1', {
        name: names[i],
        listen: `127.0.0.1:${ports[i]}`,
        targets: [`127.0.0.1:${target.port}`],
      }),
    );
  }
  const load = { stop: false };
  echoLoad(ports[0]!, 200_000, load);
  echoLoad(ports[1]!, 40_000, load);

  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(plane.server.apiUrl);
  await page.getByLabel('User name').fill('root');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Edges' }).waitFor();

  // Time to interactive of the edges page: a fresh load (session cookie held) until the edge
  // table is on screen, measured by the page's own clock from the navigation's start.
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.goto(`${plane.server.apiUrl}/edges`);
    await page.locator('table.edges').waitFor();
    samples.push((await page.evaluate('performance.now()')) as number);
  }
  samples.sort((a, b) => a - b);

  await page.waitForTimeout(4_000);
  await page.screenshot({ path: join(DOCS, 'web-console-edges.png') });
  await page.goto(`${plane.server.apiUrl}/rules/${rules[0]!.id}`);
  await page.getByText('Live: updates with every edge report.').waitFor();
  await page.waitForTimeout(8_000);
  await page.screenshot({ path: join(DOCS, 'web-console-rule.png'), fullPage: true });
  load.stop = true;
  await browser.close();

  const figures = {
    initialJsGzipBytes: initialJsGzipBytes(),
    edgesPageInteractiveMsMedian: Math.round(samples[2]!),
    edgesPageInteractiveMsSamples: samples.map(Math.round),
  };
  console.log(JSON.stringify(figures, null, 2));
} finally {
  await runCleanup();
}
