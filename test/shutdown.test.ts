// Stopping: SIGTERM stops accepting at once and lets an in-flight transfer finish within the
// drain time, then exits 0; a connection still open at drain_timeout_secs is closed and the
// process exits 0; a second SIGINT exits at once.

import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { KIB, MIB, PayloadSink, payloadDigest, sendPayload } from './helpers/payload.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget, startTarget } from './helpers/target-server.ts';
import { closed, connectError, connectTcp, echoOnce } from './helpers/tcp-client.ts';

afterEach(runCleanup);

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
    const mark = await signalled(edge, 'SIGTERM');
    await pollUntil(async () => (await connectError(listenPort, 1_000)) === 'ECONNREFUSED', {
      timeoutMs: 1_000,
      what: 'new connections to be refused after SIGTERM',
    });
    expect(sink.bytes).toBeLessThan(SIZE);

    const got = await withTimeout(sink.done, 10_000, 'the in-flight transfer to finish');
    expect(got).toEqual(payloadDigest(['drained', SIZE]));
    const exit = await edge.waitForExit(5_000);
    expect(exit).toEqual({ code: 0, signal: null });
    // It left as soon as the last connection was done, well within drain_timeout_secs.
    expect(Date.now() - signalledAt).toBeLessThan(9_000);
    expect(edge.logs.slice(mark).some((log) => log.msg === 'stopped')).toBe(true);
  });

  /** An edge with one echo rule and a client connection through it that has echoed once. */
  async function edgeWithOpenClient(drainTimeoutSecs: number) {
    const echo = await startEchoTarget();
    const listenPort = await freePort();
    const { edge } = await launchEdge({
      relayPath,
      config: {
        shards: 2,
        drainTimeoutSecs,
        rules: [{ name: 'open', listenPort, targetPorts: [echo.port] }],
      },
    });
    const client = await connectTcp(listenPort);
    await echoOnce(client, 'open');
    return { edge, client, listenPort };
  }

  /** Sends `signal`; resolves once the edge logged that it is draining, with the log mark. */
  async function signalled(
    edge: Awaited<ReturnType<typeof edgeWithOpenClient>>['edge'],
    signal: NodeJS.Signals,
  ) {
    const mark = edge.mark();
    edge.signal(signal);
    await edge.waitForMsg('draining', {}, 2_000, mark);
    return mark;
  }

  it('SIGTERM: closes a connection still open at drain_timeout_secs and exits 0', async () => {
    const { edge, client } = await edgeWithOpenClient(1);
    const signalledAt = Date.now();
    const mark = await signalled(edge, 'SIGTERM');
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
    const { edge, client, listenPort } = await edgeWithOpenClient(60);
    await signalled(edge, 'SIGINT');
    await pollUntil(async () => (await connectError(listenPort, 1_000)) === 'ECONNREFUSED', {
      // A wait, not a speed check: a busy machine can take a while to deliver the signal.
      timeoutMs: 5_000,
      what: 'new connections to be refused after SIGINT',
    });
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
