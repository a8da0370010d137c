// A slow reader keeps the edge's memory bounded: the target writes 256 MiB as fast as it can,
// the client reads nothing for several seconds, and the edge's RSS stays within a fixed window
// over its baseline; then the client reads every byte.

import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { type Digest, MIB, PayloadSink, sendPayload } from './helpers/payload.ts';
import { rssBytes } from './helpers/proc-stats.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startTarget } from './helpers/target-server.ts';
import { connectTcp } from './helpers/tcp-client.ts';

afterEach(runCleanup);

const TOTAL = 256 * MIB;
const WARM_UP = 16 * MIB;
const PAUSE_MS = 4_000;
const RSS_BOUND = 48 * MIB;

describe.each(RELAY_PATHS)('backpressure (%s path)', (relayPath) => {
  it('keeps RSS bounded while a reader stalls, then delivers every byte', async () => {
    let targetSent = 0;
    const sends: Promise<Digest>[] = [];
    const target = await startTarget((socket, index) => {
      socket.resume();
      const size = index === 0 ? WARM_UP : TOTAL;
      const send = sendPayload(socket, `flood-${index}`, size, {
        onProgress: (sent) => {
          if (index > 0) targetSent = sent;
        },
      });
      send.catch(() => {});
      sends.push(send);
    });
    const listenPort = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      config: { shards: 1, rules: [{ name: 'flood', listenPort, targetPorts: [target.port] }] },
    });
    const idle = async (): Promise<boolean> => (await metrics.rule('flood')).active_connections === 0;

    // Warm-up transfer: the relay's buffers and code paths exist before the baseline is taken.
    const warm = await connectTcp(listenPort);
    const warmGot = await withTimeout(new PayloadSink(warm).done, 30_000, 'the warm-up transfer');
    expect(warmGot.bytes).toBe(WARM_UP);
    await pollUntil(idle, { timeoutMs: 5_000, what: 'the warm-up connection to finish' });
    const baseline = rssBytes(edge.pid);

    const slow = await connectTcp(listenPort);
    slow.pause();
    let peak = baseline;
    const pauseEnds = Date.now() + PAUSE_MS;
    while (Date.now() < pauseEnds) {
      peak = Math.max(peak, rssBytes(edge.pid));
      await sleep(100); // a sampling interval, not a wait for an event
    }
    const stalledAt = targetSent;
    const growth = peak - baseline;
    // The target was held back by TCP backpressure through the edge, not buffered in it.
    expect(stalledAt).toBeGreaterThan(0);
    expect(stalledAt).toBeLessThan(TOTAL);
    expect(growth, `RSS grew by ${(growth / MIB).toFixed(1)} MiB`).toBeLessThan(RSS_BOUND);

    const got = await withTimeout(new PayloadSink(slow).done, 60_000, 'the 256 MiB after the reader resumed');
    const sent = await withTimeout(sends[1]!, 5_000, 'the target to finish sending');
    expect(got.bytes).toBe(TOTAL);
    expect(got).toEqual(sent);
    await pollUntil(idle, { timeoutMs: 5_000, what: 'the flood connection to finish' });
    expect((await metrics.rule('flood')).bytes_out).toBe(WARM_UP + TOTAL);
  });
});
