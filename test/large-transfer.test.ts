// 1 GiB each way at once through one connection: every byte arrives intact, the byte counters
// are read while the transfer runs and are never ahead of what the sender has written nor more
// than 64 KiB behind what the receiver has read, and at the end they equal the totals exactly.
//
// Both paths carry the full 1 GiB each way: on 2 cores the test process (AES keystream and
// SHA-256 on both ends) is the bottleneck, about 7-8 s per path either way.

import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import type { RuleMetrics } from './helpers/metrics.ts';
import { type Digest, KIB, MIB, PayloadSink, sendPayload } from './helpers/payload.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startTarget } from './helpers/target-server.ts';
import { connectTcp } from './helpers/tcp-client.ts';

afterEach(runCleanup);

const SIZE = 1024 * MIB;
/** Both paths add to the counters at least every 64 KiB (DESIGN.md, Data plane). */
const COUNTER_STEP = 64 * KIB;
/** The counters are read when each direction's receiver passes these fractions of SIZE. */
const SAMPLE_AT = [0.2, 0.4, 0.6, 0.8] as const;

type Direction = 'in' | 'out';

/** Progress of one direction: bytes handed to the sender's socket, bytes its receiver has read. */
class Progress {
  sent = 0;
  received = 0;
}

interface Sample {
  /** Which direction's progress triggered this read. */
  readonly trigger: Direction;
  /** Per direction: received before the scrape was sent, the counter, sent after the answer came. */
  readonly in: { readonly receivedBefore: number; readonly counter: number; readonly sentAfter: number };
  readonly out: { readonly receivedBefore: number; readonly counter: number; readonly sentAfter: number };
}

describe.each(RELAY_PATHS)('large transfer (%s path)', (relayPath) => {
  it('moves 1 GiB each way at once intact, with counters tracking it mid-way and exact at the end', async () => {
    const progress: Record<Direction, Progress> = { in: new Progress(), out: new Progress() };
    let targetSide: Promise<{ sent: Digest; received: Digest }> | undefined;
    const target = await startTarget(
      (socket) => {
        const received = new PayloadSink(socket, (bytes) => {
          progress.in.received = bytes;
          onProgress('in');
        }).done;
        const sent = sendPayload(socket, 'large-out', SIZE, {
          chunkBytes: 256 * KIB,
          onProgress: (bytes) => {
            progress.out.sent = bytes;
          },
        });
        targetSide = Promise.all([sent, received]).then(([s, r]) => ({ sent: s, received: r }));
        targetSide.catch(() => {});
      },
      { allowHalfOpen: true },
    );
    const listenPort = await freePort();
    const { metrics } = await launchEdge({
      relayPath,
      config: { shards: 2, rules: [{ name: 'large', listenPort, targetPorts: [target.port] }] },
    });

    // Each read takes both receivers' counts before the scrape leaves and both senders' counts
    // after its answer arrived, so for each direction, whatever the edge did in between:
    //   receivedBefore - 64 KiB <= counter <= sentAfter.
    // One read at a time, so their order is the order the edge answered them in.
    const samples: Array<Promise<Sample>> = [];
    let lastSample: Promise<unknown> = Promise.resolve();
    const next: Record<Direction, number> = { in: 0, out: 0 };
    const takeSample = async (trigger: Direction): Promise<Sample> => {
      const receivedIn = progress.in.received;
      const receivedOut = progress.out.received;
      const rule: RuleMetrics = await metrics.rule('large');
      return {
        trigger,
        in: { receivedBefore: receivedIn, counter: rule.bytes_in, sentAfter: progress.in.sent },
        out: { receivedBefore: receivedOut, counter: rule.bytes_out, sentAfter: progress.out.sent },
      };
    };
    function onProgress(direction: Direction): void {
      const at = SAMPLE_AT[next[direction]];
      if (at !== undefined && progress[direction].received >= at * SIZE) {
        next[direction]++;
        const sample = lastSample.then(() => takeSample(direction));
        lastSample = sample.catch(() => {});
        samples.push(sample);
      }
    }

    const socket = await connectTcp(listenPort, { allowHalfOpen: true });
    const clientReceived = new PayloadSink(socket, (bytes) => {
      progress.out.received = bytes;
      onProgress('out');
    }).done;
    const clientSent = sendPayload(socket, 'large-in', SIZE, {
      chunkBytes: 256 * KIB,
      onProgress: (bytes) => {
        progress.in.sent = bytes;
      },
    });
    const [sentIn, receivedOut] = await withTimeout(
      Promise.all([clientSent, clientReceived]),
      60_000,
      `1 GiB each way through the ${relayPath} path`,
    );
    await pollUntil(() => targetSide, { timeoutMs: 1_000, what: 'the target connection' });
    const side = await withTimeout(targetSide!, 10_000, 'the target side to finish');
    expect(sentIn.bytes).toBe(SIZE);
    expect(side.received).toEqual(sentIn);
    expect(side.sent.bytes).toBe(SIZE);
    expect(receivedOut).toEqual(side.sent);

    const taken = await withTimeout(Promise.all(samples), 10_000, 'the mid-way counter reads');
    expect(taken.map((s) => s.trigger).sort()).toEqual(
      [...SAMPLE_AT.map(() => 'in'), ...SAMPLE_AT.map(() => 'out')].sort(),
    );
    for (const direction of ['in', 'out'] as const) {
      const reads = taken.map((s) => s[direction]);
      for (const read of reads) {
        const what = `bytes_${direction} read mid-way: ${JSON.stringify(read)}`;
        expect(read.counter, what).toBeGreaterThanOrEqual(read.receivedBefore - COUNTER_STEP);
        expect(read.counter, what).toBeLessThanOrEqual(read.sentAfter);
      }
      // The reads this direction triggered caught it mid-way, and the counter only moves forward.
      const own = taken.filter((s) => s.trigger === direction).map((s) => s[direction]);
      expect(own).toHaveLength(SAMPLE_AT.length);
      own.forEach((read, i) => {
        expect(read.receivedBefore).toBeGreaterThanOrEqual(SAMPLE_AT[i]! * SIZE);
        expect(read.receivedBefore).toBeLessThan(SIZE);
        expect(read.counter).toBeGreaterThan(0);
        expect(read.counter).toBeLessThan(SIZE);
      });
      const counters = reads.map((read) => read.counter);
      expect(counters).toEqual([...counters].sort((a, b) => a - b));
    }

    const rule = await pollUntil(
      async () => {
        const r = await metrics.rule('large');
        return r.active_connections === 0 && r;
      },
      { timeoutMs: 10_000, what: 'active_connections to return to 0' },
    );
    expect(rule.bytes_in).toBe(SIZE);
    expect(rule.bytes_out).toBe(SIZE);
    expect(rule.connections_total).toBe(1);
  });
});
