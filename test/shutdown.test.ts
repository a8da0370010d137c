// Stopping: SIGTERM stops accepting at once and lets an in-flight transfer finish within the
// drain time, then exits 0; a connection still open at drain_timeout_secs is closed and the
// process exits 0; a second SIGINT exits at once.

import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import type { EdgeProcess } from './helpers/edge-process.ts';
import { KIB, MIB, PayloadSink, payloadDigest, sendPayload } from './helpers/payload.ts';
import { RELAY_PATHS, type RelayPath } from './helpers/relay-paths.ts';
import { startEchoTarget, startTarget } from './helpers/target-server.ts';
import { closed, connectError, connectTcp, echoOnce } from './helpers/tcp-client.ts';

afterEach(runCleanup);

/** An edge on 2 shards with one rule to an echo target, and a client connection that echoed once. */
async function launchWithOpenConnection(relayPath: RelayPath, drainTimeoutSecs: number, greeting: string) {
  const echo = await startEchoTarget();
  const listenPort = await freePort();
  const { edge } = await launchEdge({
    relayPath,
    config: {
      shards: 2,
      drainTimeoutSecs,
      rules: [{ name: greeting, listenPort, targetPorts: [echo.port] }],
    },
  });
  const client = await connectTcp(listenPort);
  await echoOnce(client, greeting);
  return { edge, client, listenPort };
}

/** Sends `signal` and waits for the edge to start draining and to refuse new connections. */
async function signalAndExpectRefusals(edge: EdgeProcess, listenPort: number, signal: NodeJS.Signals) {
  const mark = edge.mark();
  edge.signal(signal);
  await edge.waitForMsg('draining', {}, 2_000, mark);
  await pollUntil(async () => (await connectError(listenPort, 1_000)) === 'ECONNREFUSED', {
    timeoutMs: 1_000,
    what: `new connections to be refused after ${signal}`,
  });
  return mark;
}

describe.each(RELAY_PATHS)('shutdown (%s path)', (relayPath) => {
  it('SIGTERM: refuses new connections at once, lets an in-flight transfer finish, exits 0', async () => {
    const SIZE = 2 * MIB;
    // About 2 s on the wire: 32 chunks of 64 KiB, one every 60 ms.
    const streamer = await startTarget((socket) => {
      socket.resume();
      void sendPayload(socket, 'drained', SIZE, { chunkBytes: 64 * KIB, paceMs: 60 }).catch(() => {});
    });
    const listenPort = await freePort();
    const { edge } = await launchEdge({
      relayPath,
      config: {
        shards: 2,
        drainTimeoutSecs: 10,
        rules: [{ name: 'd', listenPort, targetPorts: [streamer.port] }],
      },
    });
    const client = await connectTcp(listenPort);
    const sink = new PayloadSink(client);
    await pollUntil(() => sink.bytes >= 128 * KIB, { timeoutMs: 5_000, what: 'the transfer to flow' });

    const signalledAt = Date.now();
    const mark = await signalAndExpectRefusals(edge, listenPort, 'SIGTERM');
    expect(sink.bytes).toBeLessThan(SIZE);

    const got = await withTimeout(sink.done, 10_000, 'the in-flight transfer to finish');
    expect(got).toEqual(payloadDigest(['drained', SIZE]));
    const exit = await edge.waitForExit(5_000);
    expect(exit).toEqual({ code: 0, signal: null });
    // It left as soon as the last connection was done, well within drain_timeout_secs.
    expect(Date.now() - signalledAt).toBeLessThan(9_000);
    expect(edge.logs.slice(mark).some((log) => log.msg === 'stopped')).toBe(true);
  });

  it('SIGTERM: closes a connection still open at drain_timeout_secs and exits 0', async () => {
    const { edge, client } = await launchWithOpenConnection(relayPath, 1, 'still-here');

    const mark = edge.mark();
    const signalledAt = Date.now();
    edge.signal('SIGTERM');
    await edge.waitForMsg('draining', {}, 2_000, mark);
    client.resume();
    await closed(client, 6_000);
    const exit = await edge.waitForExit(6_000);
    const elapsed = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    // Open connections get their drain time (1 s), and not much more.
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(elapsed).toBeLessThan(6_000);
    expect(edge.logs.slice(mark).some((log) => log.msg === 'stopped')).toBe(true);
  });

  it('SIGINT drains like SIGTERM; a second SIGINT exits at once', async () => {
    const { edge, client, listenPort } = await launchWithOpenConnection(relayPath, 60, 'open');
    await signalAndExpectRefusals(edge, listenPort, 'SIGINT');
    // Draining with 60 s to go: the open connection still works.
    await echoOnce(client, 'during-drain');
    const secondAt = Date.now();
    edge.signal('SIGINT');
    await edge.waitForExit(3_000);
    expect(Date.now() - secondAt).toBeLessThan(3_000);
    client.resume();
    await closed(client, 3_000);
  });
});
