// Half-close: one side's FIN reaches the other while the opposite direction keeps flowing, in
// both directions; and a half-closed pair that stays silent is reset after
// half_close_timeout_secs, on both of the edge's sockets (its open direction never ended, so
// neither peer may see a FIN for it), and counted as relay error idle_timeout.

import type { Socket } from 'node:net';
import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import type { MetricsClient } from './helpers/metrics.ts';
import { type Digest, KIB, MIB, PayloadSink, payloadDigest, sendPayload } from './helpers/payload.ts';
import { RELAY_PATHS, type RelayPath } from './helpers/relay-paths.ts';
import { startTarget, type TargetServer } from './helpers/target-server.ts';
import { closed, connectTcp, ended } from './helpers/tcp-client.ts';

afterEach(runCleanup);

/**
 * The pair was cut by the 1 s half-close timer (counted as one idle_timeout, nothing left open)
 * about a second after `finAt`, and `peer` lost its connection.
 */
async function expectIdleTimeoutCut(metrics: MetricsClient, finAt: number, peer: Socket): Promise<void> {
  const elapsed = Date.now() - finAt;
  expect(elapsed).toBeGreaterThanOrEqual(700);
  expect(elapsed).toBeLessThan(4_000);
  await pollUntil(async () => (await activeConnections(metrics)) === 0, {
    timeoutMs: 3_000,
    what: 'active_connections to reach 0',
  });
  expect(await idleTimeouts(metrics)).toBe(1);
  await peerIsGone(peer, 3_000);
}

async function edgeTo(
  relayPath: RelayPath,
  target: TargetServer,
  halfCloseTimeoutSecs?: number,
): Promise<{ listenPort: number; metrics: MetricsClient }> {
  const listenPort = await freePort();
  const { metrics } = await launchEdge({
    relayPath,
    config: {
      shards: 1,
      rules: [
        {
          name: 'hc',
          listenPort,
          targetPorts: [target.port],
          ...(halfCloseTimeoutSecs === undefined ? {} : { halfCloseTimeoutSecs }),
        },
      ],
    },
  });
  return { listenPort, metrics };
}

/** The edge no longer holds its side: writes from `socket` meet a reset and it closes. */
async function peerIsGone(socket: Socket, timeoutMs: number): Promise<void> {
  await pollUntil(
    () => {
      if (socket.closed) return true;
      socket.write('x');
      return false;
    },
    { timeoutMs, intervalMs: 100, what: `the edge's socket facing port ${socket.localPort} to be closed` },
  );
}

async function activeConnections(metrics: MetricsClient): Promise<number> {
  return (await metrics.rule('hc')).active_connections;
}

async function idleTimeouts(metrics: MetricsClient): Promise<number> {
  return (await metrics.rule('hc')).relay_errors.idle_timeout;
}

describe.each(RELAY_PATHS)('half-close (%s path)', (relayPath) => {
  it('delivers an answer the target starts only after it saw the client FIN', async () => {
    const REQUEST = 1 * MIB;
    const ANSWER = 2 * MIB;
    let targetSide: Promise<{ request: Digest; answer: Digest; finFirst: boolean }> | undefined;
    const target = await startTarget(
      (socket) => {
        targetSide = new PayloadSink(socket).done.then(async (request) => {
          const finFirst = socket.readableEnded;
          const answer = await sendPayload(socket, 'answer', ANSWER);
          return { request, answer, finFirst };
        });
      },
      { allowHalfOpen: true },
    );
    const { listenPort } = await edgeTo(relayPath, target);
    const client = await connectTcp(listenPort, { allowHalfOpen: true });
    const answer = new PayloadSink(client).done;
    const sent = await sendPayload(client, 'request', REQUEST);

    const got = await withTimeout(answer, 20_000, 'the answer sent after the client FIN');
    await pollUntil(() => targetSide, { timeoutMs: 1_000, what: 'the target connection' });
    const side = await withTimeout(targetSide!, 5_000, 'the target side');
    expect(side.finFirst).toBe(true);
    expect(side.request).toEqual(sent);
    expect(got).toEqual(side.answer);
    expect(got.bytes).toBe(ANSWER);
    await closed(client, 5_000);
  });

  it('delivers what the client sends after the target ended its side', async () => {
    const GREETING = 512 * KIB;
    const PART = 1 * MIB;
    let targetReceived: Promise<Digest> | undefined;
    const target = await startTarget(
      (socket) => {
        targetReceived = new PayloadSink(socket).done;
        void sendPayload(socket, 'greeting', GREETING).catch(() => {});
      },
      { allowHalfOpen: true },
    );
    const { listenPort } = await edgeTo(relayPath, target);
    const client = await connectTcp(listenPort, { allowHalfOpen: true });
    const greeting = new PayloadSink(client).done;
    await sendPayload(client, 'upload-1', PART, { end: false });
    // The target's FIN has come through; the client goes on sending into the half-open pair.
    const got = await withTimeout(greeting, 10_000, 'the greeting and the target FIN');
    expect(got).toEqual(payloadDigest(['greeting', GREETING]));
    await sendPayload(client, 'upload-2', PART);

    await pollUntil(() => targetReceived, { timeoutMs: 1_000, what: 'the target connection' });
    const received = await withTimeout(targetReceived!, 10_000, 'the upload at the target');
    expect(received).toEqual(payloadDigest(['upload-1', PART], ['upload-2', PART]));
    await closed(client, 5_000);
  });

  it('resets a pair left half-closed by the client and silent, after half_close_timeout_secs', async () => {
    // The target reads but never sends and never ends its side.
    const target = await startTarget((socket) => socket.resume(), { allowHalfOpen: true });
    const { listenPort, metrics } = await edgeTo(relayPath, target, 1);
    const client = await connectTcp(listenPort, { allowHalfOpen: true });
    client.resume();
    client.write('hello');
    const targetSocket = await withTimeout(target.nextConnection(0), 5_000, 'the target connection');

    const finAt = Date.now();
    client.end();
    await ended(targetSocket, 5_000);
    await closed(client, 4_000);
    // Closed by the idle timer (1 s), not at the FIN and not much later.
    await expectIdleTimeoutCut(metrics, finAt, targetSocket);
  });

  it('resets a pair left half-closed by the target and silent, after half_close_timeout_secs', async () => {
    // The target ends its side at once and then neither reads nor sends anything more.
    const target = await startTarget((socket) => socket.end(), { allowHalfOpen: true });
    const { listenPort, metrics } = await edgeTo(relayPath, target, 1);
    const client = await connectTcp(listenPort, { allowHalfOpen: true });
    client.resume();
    const targetSocket = await withTimeout(target.nextConnection(0), 5_000, 'the target connection');
    targetSocket.resume();
    await ended(client, 5_000);

    const finAt = Date.now();
    // The client never ends: the edge must close the pair on its own, and the target sees a
    // reset, not a FIN that would pass for the client's end of the stream.
    let targetEnded = false;
    targetSocket.on('end', () => {
      targetEnded = true;
    });
    await closed(targetSocket, 4_000);
    expect(targetEnded).toBe(false);
    await expectIdleTimeoutCut(metrics, finAt, client);
  });
});
