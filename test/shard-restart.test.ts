// A killed shard comes back: with two shards and the test hooks on, shard 0's worker dies of an
// uncaught error while connections flow; the supervisor restarts it, it rebinds its rules and
// takes connections again, and the other shard serves throughout.

import type { Socket } from 'node:net';
import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { findSamples } from './helpers/metrics.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { connectTcp, echoOnce, echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

/** Short echo connections from `workers` loops until stopped; records each success and failure. */
class Load {
  readonly successes: number[] = [];
  readonly failures: string[] = [];
  #running = true;
  readonly #loops: Promise<void>[];

  constructor(port: number, workers: number) {
    this.#loops = Array.from({ length: workers }, async (_, w) => {
      for (let n = 0; this.#running; n++) {
        try {
          await echoRoundTrip(port, `w${w}-${n}`, 2_000);
          this.successes.push(Date.now());
        } catch (err) {
          this.failures.push((err as NodeJS.ErrnoException).code ?? (err as Error).message);
        }
      }
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** The longest stretch without a completed round trip. */
  longestGapMs(): number {
    let gap = 0;
    for (let i = 1; i < this.successes.length; i++) {
      gap = Math.max(gap, this.successes[i]! - this.successes[i - 1]!);
    }
    return gap;
  }
}

describe.each(RELAY_PATHS)('shard restart (%s path)', (relayPath) => {
  it('restarts a crashed shard, which rebinds and serves again, while the other shard serves on', async () => {
    const LONG_LIVED = 16;
    const echo = await startEchoTarget();
    const listenPort = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      config: { shards: 2, rules: [{ name: 'steady', listenPort, targetPorts: [echo.port] }] },
      env: { SLUICE_TEST_HOOKS: '1' },
    });
    const shard0Total = async (): Promise<number> =>
      (await metrics.rule('steady')).shards.find((s) => s.shard === 0)?.connections_total ?? 0;

    // Long-lived connections spread over both shards, open across the crash.
    const longLived: Socket[] = [];
    for (let i = 0; i < LONG_LIVED; i++) {
      const socket = await connectTcp(listenPort);
      await echoOnce(socket, `long-${i}`);
      longLived.push(socket);
    }

    const load = new Load(listenPort, 4);
    try {
      await pollUntil(() => load.successes.length >= 40, {
        timeoutMs: 20_000,
        what: '40 round trips before the crash',
      });
      const mark = edge.mark();
      const crash = await metrics.post('/debug/shards/0/crash');
      expect(crash.status).toBeLessThan(300);
      await edge.waitForMsg('shard exited', { shard: 0 }, 5_000, mark);
      const started = await edge.waitForMsg('shard started', { shard: 0 }, 15_000, mark);
      expect(edge.logs.indexOf(started)).toBeGreaterThan(
        edge.logs.findIndex((log, i) => i >= mark && log.msg === 'shard exited'),
      );
      const afterRestart = load.successes.length;
      await pollUntil(() => load.successes.length >= afterRestart + 40, {
        timeoutMs: 20_000,
        what: '40 round trips after the restart',
      });
    } finally {
      await withTimeout(load.stop(), 10_000, 'the load loops to stop');
    }
    // Only the crashed shard's own connections may fail, and only around the crash.
    expect(load.failures.length, load.failures.join(', ')).toBeLessThanOrEqual(20);
    expect(load.longestGapMs()).toBeLessThan(2_000);

    // The surviving shard's long-lived connections still relay; the crashed shard's were closed,
    // not left hanging.
    const outcomes = await Promise.all(
      longLived.map((socket, i) =>
        echoOnce(socket, `after-${i}`, 3_000).then(
          () => 'ok',
          (err: Error) => (/timed out/.test(err.message) ? 'hung' : 'closed'),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok').length, outcomes.join(',')).toBeGreaterThanOrEqual(1);
    expect(outcomes.filter((o) => o === 'hung')).toEqual([]);

    const json = await metrics.json();
    expect(json.shards).toEqual({ configured: 2, running: 2, restarts: 1 });
    const shardGauge = findSamples(await metrics.samples(), 'sluice_shards');
    expect(shardGauge.map((s) => s.value)).toEqual([2]);
    const health = await metrics.get('/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });

    // The restarted shard has its listener back: new connections reach it again.
    const before = await shard0Total();
    await withTimeout(
      (async () => {
        for (let start = 0; start < 100; start += 10) {
          await Promise.all(
            Array.from({ length: 10 }, (_, j) => echoRoundTrip(listenPort, `new-${start + j}`)),
          );
        }
      })(),
      30_000,
      '100 connections after the restart',
    );
    await pollUntil(async () => (await shard0Total()) > before, {
      timeoutMs: 3_000,
      what: 'shard 0 to take new connections after its restart',
    });
    expect((await metrics.rule('steady')).state).toBe('active');
  });
});
