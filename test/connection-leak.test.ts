// 2000 connections held open at once through the edge, each exchanging a few bytes, then closed
// in three ways (FIN, close, reset): the edge's descriptor count returns to its baseline.

import type { Socket } from 'node:net';
import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { fdCount } from './helpers/proc-stats.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { connectTcp, echoOnce, echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

const CONNECTIONS = 2000;
/** Connections opened at once; more would only overflow the listen backlog and wait on SYN retries. */
const BATCH = 100;
/** Descriptors the edge may open lazily on its own (timers, DNS, a scrape in flight). */
const FD_SLACK = 16;

describe.each(RELAY_PATHS)('connection leak (%s path)', (relayPath) => {
  it(`returns to its descriptor baseline after ${CONNECTIONS} concurrent connections`, async () => {
    const target = await startEchoTarget();
    const listenPort = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      config: { shards: 2, rules: [{ name: 'many', listenPort, targetPorts: [target.port] }] },
    });
    const activeIs = (count: number) => async () => (await metrics.rule('many')).active_connections === count;

    // Warm up every lazily created piece (per-shard pools, the metrics server), then settle.
    for (let i = 0; i < 20; i++) await echoRoundTrip(listenPort, `warm-${i}`);
    await pollUntil(activeIs(0), { timeoutMs: 10_000, what: 'warm-up connections to finish' });
    const baseline = fdCount(edge.pid);

    const sockets: Socket[] = [];
    await withTimeout(
      (async () => {
        for (let start = 0; start < CONNECTIONS; start += BATCH) {
          const batch = await Promise.all(
            Array.from({ length: Math.min(BATCH, CONNECTIONS - start) }, async (_, j) => {
              const socket = await connectTcp(listenPort, { timeoutMs: 10_000 });
              await echoOnce(socket, `c${String(start + j).padStart(5, '0')}`, 10_000);
              return socket;
            }),
          );
          sockets.push(...batch);
        }
      })(),
      90_000,
      `${CONNECTIONS} connections to open`,
    );
    expect(sockets).toHaveLength(CONNECTIONS);
    expect(target.accepted.length).toBe(CONNECTIONS + 20);
    await pollUntil(activeIs(CONNECTIONS), { timeoutMs: 10_000, what: `${CONNECTIONS} active connections` });
    // Each open pair holds two descriptors in the edge: the measurement can see a leak.
    expect(fdCount(edge.pid)).toBeGreaterThanOrEqual(baseline + 2 * CONNECTIONS - FD_SLACK);

    sockets.forEach((socket, i) => {
      if (i % 3 === 0) socket.end();
      else if (i % 3 === 1) socket.destroy();
      else socket.resetAndDestroy();
    });

    await pollUntil(activeIs(0), { timeoutMs: 30_000, what: 'active_connections to reach 0' });
    const settled = await pollUntil(
      () => {
        const now = fdCount(edge.pid);
        return now <= baseline + FD_SLACK && now;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `edge descriptors back to ${baseline} (+${FD_SLACK})` },
    );
    expect(settled).toBeLessThanOrEqual(baseline + FD_SLACK);
    const rule = await metrics.rule('many');
    expect(rule.connections_total).toBe(CONNECTIONS + 20);
  });
});
