// An edge that dies mid-stream (SIGKILL, the OOM killer) cuts its connections with a reset, not
// a FIN: the kernel closes a dead process's sockets, and a FIN would let the client, or the
// target, take a stream cut in the middle for a complete one. The splice relay keeps its pairs
// abortive (SO_LINGER 0) until a stream has ended whole, so on both of its paths each peer sees
// ECONNRESET. A stream that ended whole before the kill still closes with a FIN.
// The JS relay path (node:net sockets, no addon) cannot set SO_LINGER: it is not covered here,
// and docs/security.md says so.

import type { Socket } from 'node:net';
import { freePort, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { startTarget } from './helpers/target-server.ts';
import { connectTcp, readExactly } from './helpers/tcp-client.ts';

afterEach(runCleanup);

/** How the socket ended: the error code, or `end` for a clean FIN (a half-open socket stays open after one). */
function howItEnds(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let error: string | null = null;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error ??= err.code ?? err.message;
    });
    socket.once('end', () => resolve('end'));
    socket.resume();
    socket.once('close', () => resolve(error ?? 'closed'));
  });
}

describe.each(['native', 'splice'] as const)('a SIGKILLed edge on the %s path', (relayPath) => {
  it('resets both peers of a stream it was relaying, even one whose client had already sent its FIN', async () => {
    const target = await startTarget(() => {}, { allowHalfOpen: true });
    const listenPort = await freePort();
    const { edge } = await launchEdge({
      relayPath,
      config: { shards: 1, rules: [{ name: 'cut', listenPort, targetPorts: [target.port] }] },
    });
    // One pair mid-stream both ways, and one whose client has half-closed (its stream to the
    // target is whole; the reply is not).
    // One at a time, so that the target's accept order is the clients' order.
    const open = await connectTcp(listenPort, { allowHalfOpen: true });
    const openUpstream = await target.nextConnection(0);
    const halfClosed = await connectTcp(listenPort, { allowHalfOpen: true });
    const halfUpstream = await target.nextConnection(1);
    open.write('request in flight');
    await readExactly(openUpstream, 17);
    openUpstream.write('reply in flight');
    await readExactly(open, 15);
    halfClosed.end('whole request');
    await readExactly(halfUpstream, 13);
    // The half-closed client's request reaches the target whole, FIN included, before the kill:
    // that end is the stream's own. Only the reply's direction is left for the kill to cut.
    const requestEnded = new Promise((ended) => halfUpstream.once('end', ended));
    halfUpstream.resume();
    await withTimeout(requestEnded, 5_000, "the request's FIN at the target");
    const ends = [open, halfClosed, openUpstream].map(howItEnds);
    edge.child.kill('SIGKILL');
    expect(await withTimeout(Promise.all(ends), 10_000, 'the three sockets to close')).toEqual([
      'ECONNRESET',
      'ECONNRESET',
      'ECONNRESET',
    ]);
  });

  it('still ends a stream that finished whole before the kill with a FIN', async () => {
    const target = await startTarget((socket) => socket.pipe(socket));
    const listenPort = await freePort();
    const { edge } = await launchEdge({
      relayPath,
      config: { shards: 1, rules: [{ name: 'whole', listenPort, targetPorts: [target.port] }] },
    });
    const client = await connectTcp(listenPort);
    const ending = howItEnds(client);
    client.end('all of it');
    expect(await withTimeout(ending, 10_000, 'the echo to end')).toBe('end');
    edge.child.kill('SIGKILL');
  });
});
