// A rule's bandwidth caps hold each direction to its own rate: one connection moves bytes both
// ways at once under different caps (so a cap applied to the wrong direction, or both directions
// sharing one bucket, shows), and each receiver stamps every byte as it arrives. Over every pair
// of times t1 < t2, bytes(t2) - bytes(t1) <= burst + rate x (t2 - t1) + CAP_SLACK_BYTES (see
// byte-meter.ts for why that slack); once the burst is through, the rate is the cap within 10%
// over at least 2 s; every byte arrives intact; the throttled time is counted per direction.
// An owner's cap holds the sum of its rules' flows the same way.

import { freePort, freePorts, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteMeter, CAP_SLACK_BYTES, type Cap, checkCap } from './helpers/byte-meter.ts';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { PayloadSink, sendPayload, YIELD_EACH_CHUNK } from './helpers/payload.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startTarget } from './helpers/target-server.ts';
import { connectTcp } from './helpers/tcp-client.ts';

afterEach(runCleanup);

// "16Mbit" and "24Mbit" in bytes per second; the burst defaults to one second of each rate.
const IN_CAP: Cap = { bytesPerSec: 2_000_000, burstBytes: 2_000_000 };
const OUT_CAP: Cap = { bytesPerSec: 3_000_000, burstBytes: 3_000_000 };
/** Seconds each direction runs at its cap once its burst is through: 2 s of steady rate, and some. */
const STEADY_SECS = 2.8;
const bytesFor = (cap: Cap): number => cap.burstBytes + cap.bytesPerSec * STEADY_SECS;

describe.each(RELAY_PATHS)('bandwidth caps (%s path)', (relayPath) => {
  it('holds each direction to its own cap over every window and delivers every byte', async () => {
    // Connections are taken from the target by hand: the test meters the upstream socket
    // before it reads anything (an accepted socket does not flow until someone reads it).
    const target = await startTarget(() => {}, { allowHalfOpen: true });
    const listenPort = await freePort();
    const { metrics } = await launchEdge({
      relayPath,
      config: {
        shards: 2,
        rules: [
          {
            name: 'capped',
            listenPort,
            targetPorts: [target.port],
            limits: { bandwidthIn: '16Mbit', bandwidthOut: '24Mbit' },
          },
        ],
      },
    });

    // Both meters start before the connection exists: every window is measured from no later
    // than the first byte the edge could relay.
    const inMeter = new ByteMeter();
    const outMeter = new ByteMeter();
    const client = await connectTcp(listenPort, { allowHalfOpen: true });
    outMeter.watch(client);
    const outReceived = new PayloadSink(client).done;
    const inSent = sendPayload(client, 'qos-in', bytesFor(IN_CAP), YIELD_EACH_CHUNK);
    const upstream = await withTimeout(target.nextConnection(0), 5_000, 'the edge to connect to the target');
    inMeter.watch(upstream);
    const inReceived = new PayloadSink(upstream).done;
    const outSent = sendPayload(upstream, 'qos-out', bytesFor(OUT_CAP), YIELD_EACH_CHUNK);

    const [inFrom, inTo, outFrom, outTo] = await withTimeout(
      Promise.all([inSent, inReceived, outSent, outReceived]),
      20_000,
      'both capped directions to finish',
    );
    expect(inTo).toEqual(inFrom);
    expect(outTo).toEqual(outFrom);
    expect(inTo.bytes).toBe(bytesFor(IN_CAP));
    expect(outTo.bytes).toBe(bytesFor(OUT_CAP));

    for (const [direction, meter, cap] of [
      ['in', inMeter, IN_CAP],
      ['out', outMeter, OUT_CAP],
    ] as const) {
      const check = checkCap(meter.marks, cap);
      const what = `${direction}: ${check.summary}`;
      expect(check.worst.excessBytes, what).toBeLessThanOrEqual(CAP_SLACK_BYTES);
      expect(check.steadyRatio, what).toBeGreaterThan(0.9);
      expect(check.steadyRatio, what).toBeLessThan(1.1);
      // The payload sizes leave 2.8 s at the cap after the burst; less would mean a faster flow,
      // which the rate above already rejects.
      expect(check.steadyMs, what).toBeGreaterThanOrEqual(2_000);
    }

    // Each direction waited for its own tokens for most of its steady part (a held chunk or a
    // throttled splice counts from the moment it stops to the moment it goes on), and never
    // longer than the whole transfer lasted.
    const throttled = await metrics.throttledSeconds('capped');
    for (const [direction, meter] of [
      ['in', inMeter],
      ['out', outMeter],
    ] as const) {
      const lastedSecs = (meter.last.atMs - meter.first.atMs) / 1000;
      expect(throttled[direction], `throttled ${direction}`).toBeGreaterThan(STEADY_SECS / 2);
      expect(throttled[direction], `throttled ${direction}`).toBeLessThan(lastedSecs + 0.1);
    }
    // The JSON form carries the same numbers (nothing is throttled any more, so they hold still).
    const json = (await metrics.rule('capped')).throttled_seconds;
    expect(json.in).toBeCloseTo(throttled.in, 6);
    expect(json.out).toBeCloseTo(throttled.out, 6);
  });

  it('holds the sum of two rules’ transfers to their owner’s cap', async () => {
    // "16Mbit" with burst = "4Mbit": a burst of a quarter second, so the windows are tight.
    const OWNER_CAP: Cap = { bytesPerSec: 2_000_000, burstBytes: 500_000 };
    const EACH = (OWNER_CAP.burstBytes + OWNER_CAP.bytesPerSec * STEADY_SECS) / 2;
    const target = await startTarget(() => {});
    const [portA, portB] = (await freePorts(2)) as [number, number];
    const { metrics } = await launchEdge({
      relayPath,
      config: {
        shards: 2,
        rules: [
          { name: 'a', listenPort: portA, targetPorts: [target.port], owner: 'team' },
          { name: 'b', listenPort: portB, targetPorts: [target.port], owner: 'team' },
        ],
        owners: { team: { bandwidthOut: '16Mbit', burst: '4Mbit' } },
      },
    });

    // One meter for both receivers: it sees the sum, which is what the owner's cap holds.
    const meter = new ByteMeter();
    const transfers: Promise<number>[] = [];
    for (const [i, port] of [portA, portB].entries()) {
      const client = await connectTcp(port);
      meter.watch(client);
      const received = new PayloadSink(client).done;
      // One connection at a time, so that the target's i-th connection is this client's.
      const upstream = await withTimeout(
        target.nextConnection(i),
        5_000,
        `the edge to connect for rule ${i}`,
      );
      const sent = sendPayload(upstream, `owner-${i}`, EACH, YIELD_EACH_CHUNK);
      transfers.push(
        Promise.all([sent, received]).then(([from, to]) => {
          expect(to, `transfer ${i}`).toEqual(from);
          return to.bytes;
        }),
      );
    }
    const sizes = await withTimeout(Promise.all(transfers), 20_000, 'both transfers under the owner cap');
    expect(sizes).toEqual([EACH, EACH]);

    // Two connections, so twice the slack of one.
    const check = checkCap(meter.marks, OWNER_CAP);
    expect(check.worst.excessBytes, check.summary).toBeLessThanOrEqual(2 * CAP_SLACK_BYTES);
    expect(check.steadyRatio, check.summary).toBeGreaterThan(0.85);
    expect(check.steadyRatio, check.summary).toBeLessThan(1.1);
    expect(check.steadyMs, check.summary).toBeGreaterThanOrEqual(2_000);
    // Both rules' flows waited on the owner's tokens; nothing capped their in direction.
    for (const rule of ['a', 'b']) {
      const throttled = await metrics.throttledSeconds(rule);
      expect(throttled.out, `rule ${rule} throttled out`).toBeGreaterThan(0);
      expect(throttled.in, `rule ${rule} throttled in`).toBe(0);
    }
  });
});
