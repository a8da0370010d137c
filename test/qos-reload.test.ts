// Caps change live on SIGHUP. A bandwidth cap raised under a running transfer speeds that very
// connection up to the new cap, and a cap removed lets it run unthrottled, without the connection
// breaking (every byte arrives intact). A max_connections lowered below what is open closes
// nothing: the open connections keep relaying, only new ones are refused until enough close.

import { performance } from 'node:perf_hooks';
import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ByteMeter,
  CAP_SLACK_BYTES,
  type Cap,
  checkCap,
  rateBetween,
  worstWindow,
} from './helpers/byte-meter.ts';
import { runCleanup } from './helpers/cleanup.ts';
import type { EdgeConfig, RuleConfig } from './helpers/edge-config.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import type { EdgeProcess } from './helpers/edge-process.ts';
import { MIB, PayloadSink, sendPayload, YIELD_EACH_CHUNK } from './helpers/payload.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget, startTarget } from './helpers/target-server.ts';
import { connectTcp, echoOnce, tryEcho } from './helpers/tcp-client.ts';

afterEach(runCleanup);

// "8Mbit" and "32Mbit" in bytes per second, each with its default burst of one second.
const LOW: Cap = { bytesPerSec: 1_000_000, burstBytes: 1_000_000 };
const HIGH: Cap = { bytesPerSec: 4_000_000, burstBytes: 4_000_000 };
/** How long each cap is measured at its steady rate. */
const MEASURE_MS = 1_500;
/**
 * After a reload, how long before the new cap surely rules: a JS chunk held at the old rate
 * (64 KiB at 1 MB/s: 66 ms) or a splice wait for its smallest grant (10 ms) ends first.
 */
const SETTLE_MS = 250;
/** What the stream sends once the cap is gone: 2 s of throttling at the last cap. */
const UNCAPPED_TAIL = 8 * MIB;

/** Rewrites the file, sends SIGHUP, waits until the reload applied; returns the log mark from before. */
async function reload(edge: EdgeProcess, rewrite: () => void): Promise<number> {
  const mark = edge.mark();
  rewrite();
  edge.signal('SIGHUP');
  await edge.waitForMsg('reload applied', {}, 5_000, mark);
  return mark;
}

describe.each(RELAY_PATHS)('caps on reload (%s path)', (relayPath) => {
  it('raises, then removes, a bandwidth cap under a live transfer without breaking it', async () => {
    const target = await startTarget(() => {});
    const listenPort = await freePort();
    const rule = (limits?: RuleConfig['limits']): Omit<EdgeConfig, 'metricsPort'> => ({
      shards: 2,
      rules: [{ name: 'live', listenPort, targetPorts: [target.port], ...(limits ? { limits } : {}) }],
    });
    const { edge, metrics, rewrite } = await launchEdge({
      relayPath,
      config: rule({ bandwidthOut: '8Mbit' }),
    });

    const meter = new ByteMeter();
    const client = await connectTcp(listenPort);
    meter.watch(client);
    const received = new PayloadSink(client).done;
    const upstream = await withTimeout(target.nextConnection(0), 5_000, 'the edge to connect to the target');
    // A stream that runs until the test says where it ends.
    let sentBytes = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    const sent = sendPayload(upstream, 'live', 1024 * MIB, {
      ...YIELD_EACH_CHUNK,
      onProgress: (bytes) => {
        sentBytes = bytes;
      },
      stopWhen: () => sentBytes >= stopAt,
    });
    sent.catch(() => {});

    // At the low cap: its burst, then its rate.
    const lowEnd = await pollUntil(
      () => {
        const burstIn = meter.reached(LOW.burstBytes);
        return (
          burstIn !== undefined && meter.last.atMs >= burstIn.atMs + SETTLE_MS + MEASURE_MS && meter.last
        );
      },
      { timeoutMs: 10_000, what: 'the transfer to run at the low cap' },
    );
    const low = checkCap(meter.marks.slice(0, meter.marks.indexOf(lowEnd) + 1), LOW);
    expect(low.worst.excessBytes, low.summary).toBeLessThanOrEqual(CAP_SLACK_BYTES);
    expect(low.steadyRatio, low.summary).toBeGreaterThan(0.9);
    expect(low.steadyRatio, low.summary).toBeLessThan(1.1);

    // Raised to 4x: the same connection runs at the new cap.
    const raisedFrom = meter.last;
    const raised = await reload(edge, () => rewrite(rule({ bandwidthOut: '32Mbit' })));
    await edge.waitForMsg('rule updated', { rule: 'live' }, 1_000, raised);
    const appliedAt = performance.now();
    await pollUntil(() => meter.last.atMs >= appliedAt + SETTLE_MS + MEASURE_MS, {
      timeoutMs: 10_000,
      what: 'the transfer to run at the raised cap',
    });
    const highFrom = meter.at(appliedAt + SETTLE_MS);
    const highTo = meter.last;
    const highRatio = rateBetween(highFrom, highTo) / HIGH.bytesPerSec;
    const highSummary =
      `${highTo.bytes - highFrom.bytes} bytes in ${(highTo.atMs - highFrom.atMs).toFixed(0)} ms from ` +
      `${SETTLE_MS} ms after the reload: ${(highRatio * 100).toFixed(1)}% of the raised cap`;
    expect(highRatio, highSummary).toBeGreaterThan(0.9);
    expect(highRatio, highSummary).toBeLessThan(1.1);
    // A raise carries over the tokens the bucket held, not a fresh burst of the new cap: from
    // the last mark before the reload, no window holds more than the raised rate plus what the
    // old bucket could have held (it was nearly empty, running at its cap).
    const sinceRaise = worstWindow(meter.since(raisedFrom), HIGH.bytesPerSec, LOW.burstBytes);
    expect(sinceRaise.excessBytes, highSummary).toBeLessThanOrEqual(CAP_SLACK_BYTES);

    // Removed: the flow stops waiting for tokens. The stream ends UNCAPPED_TAIL bytes later,
    // which at the raised cap would have meant 2 s more of throttling.
    const removed = await reload(edge, () => rewrite(rule()));
    await edge.waitForMsg('rule updated', { rule: 'live' }, 1_000, removed);
    const throttledAtRemoval = (await metrics.throttledSeconds('live')).out;
    stopAt = sentBytes + UNCAPPED_TAIL;
    const [from, to] = await withTimeout(
      Promise.all([sent, received]),
      15_000,
      'the stream to finish uncapped',
    );
    expect(to).toEqual(from);
    expect(to.bytes).toBeGreaterThan(raisedFrom.bytes + UNCAPPED_TAIL);
    // At most a wait that had begun under the old cap ends after the removal.
    const throttledAfter = (await metrics.throttledSeconds('live')).out - throttledAtRemoval;
    expect(throttledAfter).toBeLessThan(0.25);

    // The rule was changed in place each time, never re-bound.
    // (The edge holds this rule alone: every `rules active` line would be a bind of it.)
    const rebinds = edge.logs.filter((log) => log.msg === 'rules active');
    expect(rebinds.length).toBe(1);
    expect((await metrics.rule('live')).bytes_out).toBe(to.bytes);
  });

  it('lowering max_connections closes nothing that is open and refuses new ones', async () => {
    const target = await startEchoTarget();
    const listenPort = await freePort();
    const rule = (maxConnections: number): Omit<EdgeConfig, 'metricsPort'> => ({
      shards: 2,
      rules: [{ name: 'shrink', listenPort, targetPorts: [target.port], limits: { maxConnections } }],
    });
    const { edge, metrics, rewrite } = await launchEdge({ relayPath, config: rule(5) });

    const open = [];
    for (const tag of ['one', 'two', 'three']) {
      const attempt = await tryEcho(listenPort, tag);
      if (!attempt.admitted) throw new Error(`connection ${tag} was refused under max_connections = 5`);
      open.push(attempt.socket);
    }

    const lowered = await reload(edge, () => rewrite(rule(1)));
    await edge.waitForMsg('rule updated', { rule: 'shrink' }, 1_000, lowered);
    // All three were admitted under the old cap and stay; a new one is over the new cap.
    for (const [i, socket] of open.entries()) await echoOnce(socket, `after-reload-${i}`);
    expect(await tryEcho(listenPort, 'four')).toMatchObject({ admitted: false, received: 0 });
    expect((await metrics.rule('shrink')).active_connections).toBe(3);

    // Two close: one is still open, which is the cap, so still no room.
    open[0]!.destroy();
    open[1]!.destroy();
    await pollUntil(async () => (await metrics.rule('shrink')).active_connections === 1, {
      timeoutMs: 5_000,
      what: 'two connections to close',
    });
    await echoOnce(open[2]!, 'still-open');
    expect(await tryEcho(listenPort, 'five')).toMatchObject({ admitted: false, received: 0 });
    // The last one closes: room for one.
    open[2]!.destroy();
    await pollUntil(async () => (await metrics.rule('shrink')).active_connections === 0, {
      timeoutMs: 5_000,
      what: 'the last connection to close',
    });
    expect(await tryEcho(listenPort, 'six')).toMatchObject({ admitted: true });

    const shrink = await metrics.rule('shrink');
    expect(shrink.rejected).toMatchObject({ rule_max_connections: 2 });
    expect(shrink.connections_total).toBe(4);
    expect(target.accepted.length).toBe(4);
  });

  it('a shard that dies gives back each connection under the owner it was admitted under', async () => {
    const target = await startEchoTarget();
    const listenPort = await freePort();
    const config = (owner: string): Omit<EdgeConfig, 'metricsPort'> => ({
      shards: 1,
      rules: [{ name: 'moving', listenPort, targetPorts: [target.port], owner }],
      owners: { alpha: { maxConnections: 2 }, beta: { maxConnections: 2 } },
    });
    const { edge, metrics, rewrite } = await launchEdge({
      relayPath,
      config: config('alpha'),
      env: { SLUICE_TEST_HOOKS: '1' },
    });
    const open = [];
    for (const tag of ['a1', 'a2']) {
      const attempt = await tryEcho(listenPort, tag);
      if (!attempt.admitted) throw new Error(`${tag} was refused under alpha's cap of 2`);
      open.push(attempt.socket);
    }
    // The rule moves to beta while alpha's two connections stay open; then the shard dies.
    await reload(edge, () => rewrite(config('beta')));
    const mark = edge.mark();
    expect((await metrics.post('/debug/shards/0/crash')).status).toBe(202);
    await edge.waitForMsg('shard rules rebound', { shard: 0, rules: 1 }, 10_000, mark);
    // Beta holds nothing: exactly its cap of 2 is admitted, not 4.
    const beta = [];
    for (const tag of ['b1', 'b2', 'b3']) beta.push(await tryEcho(listenPort, tag));
    expect(beta.map((attempt) => attempt.admitted)).toEqual([true, true, false]);
    for (const attempt of beta) if (attempt.admitted) attempt.socket.destroy();
    await pollUntil(async () => (await metrics.rule('moving')).active_connections === 0, {
      timeoutMs: 5_000,
      what: 'the beta connections to close',
    });
    // Alpha's places came back with the dead shard: back under alpha, two are admitted again.
    await reload(edge, () => rewrite(config('alpha')));
    const alpha = [];
    for (const tag of ['a3', 'a4']) alpha.push(await tryEcho(listenPort, tag));
    expect(alpha.map((attempt) => attempt.admitted)).toEqual([true, true]);
    for (const socket of open) socket.destroy();
  });
});
