// The addon's port probe (probeBind) against real sockets on loopback: a holder with or without
// SO_REUSEPORT is seen, a free port is left free, TCP and UDP are told apart.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { constants } from 'node:os';
import { freePort } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { probeBind } from './index.ts';

const { EADDRINUSE, EADDRNOTAVAIL } = constants.errno;
const held: (Server | UdpSocket)[] = [];
afterEach(() => {
  for (const socket of held.splice(0)) socket.close();
});

function holdTcp(port: number, reusePort: boolean): Promise<void> {
  const server = createServer();
  held.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, reusePort }, () => resolve());
  });
}

function holdUdp(port: number, reusePort: boolean): Promise<void> {
  const socket = createSocket({ type: 'udp4', reusePort });
  held.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: '127.0.0.1', port }, () => resolve());
  });
}

describe('probeBind', () => {
  it('finds a free port free, and leaves it so', async () => {
    const port = await freePort();
    expect(probeBind('127.0.0.1', port, false)).toBe(0);
    expect(probeBind('127.0.0.1', port, true)).toBe(0);
    // Nothing of the probe stays behind: an exclusive listener and socket take the port after it.
    await holdTcp(port, false);
    await holdUdp(port, false);
  });

  it.each([false, true])('sees a TCP listener holding the port (SO_REUSEPORT %s)', async (reusePort) => {
    const port = await freePort();
    await holdTcp(port, reusePort);
    expect(probeBind('127.0.0.1', port, false)).toBe(-EADDRINUSE);
    // The wildcard address overlaps it too; UDP on the same port is another socket space.
    expect(probeBind('0.0.0.0', port, false)).toBe(-EADDRINUSE);
    expect(probeBind('127.0.0.1', port, true)).toBe(0);
  });

  it.each([false, true])('sees a UDP socket holding the port (SO_REUSEPORT %s)', async (reusePort) => {
    const port = await freePort();
    await holdUdp(port, reusePort);
    expect(probeBind('127.0.0.1', port, true)).toBe(-EADDRINUSE);
    expect(probeBind('127.0.0.1', port, false)).toBe(0);
  });

  it('probes IPv6 literals, and names an address this host does not have', async () => {
    const port = await freePort();
    expect(probeBind('::1', port, false)).toBe(0);
    expect(probeBind('192.0.2.1', port, false)).toBe(-EADDRNOTAVAIL);
  });

  it('refuses what is not an IP literal and a port', () => {
    for (const args of [
      ['localhost', 80, false],
      ['127.0.0.1', 65_536, false],
      ['127.0.0.1', 1.5, false],
      ['127.0.0.1', -1, false],
      ['127.0.0.1', 80, 'tcp'],
      [1, 80, false],
    ] as const) {
      expect(() => probeBind(...(args as unknown as [string, number, boolean]))).toThrow(TypeError);
    }
  });
});
