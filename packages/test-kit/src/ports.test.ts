import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePortBlock, freePorts } from './ports.ts';

/** Binds TCP `port` on 127.0.0.1 and releases it: resolves true if the bind worked. */
function bindsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function bindsUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind({ address: '127.0.0.1', port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

describe('free ports', () => {
  it('hands out distinct ports that can be bound', async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) expect(await bindsTcp(port), `port ${port}`).toBe(true);
  });

  it('finds a block of consecutive ports free for TCP and UDP', async () => {
    const base = await freePortBlock(4);
    for (let port = base; port < base + 4; port++) {
      expect([await bindsTcp(port), await bindsUdp(port)], `port ${port}`).toEqual([true, true]);
    }
  });
});
