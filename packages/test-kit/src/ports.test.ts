import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePortBlock, freePorts, slicePorts } from './ports.ts';

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

  it("draws below the ephemeral range from this worker's slice, a port once until the slice wraps", async () => {
    const first = await freePorts(3);
    const second = await freePorts(3);
    const all = [...first, ...second];
    expect(new Set(all).size).toBe(6);
    const pool = Number(process.env.VITEST_POOL_ID);
    const start = 10_000 + ((pool - 1) % 8) * 1250;
    for (const port of all) {
      expect(port, `port ${port}`).toBeGreaterThanOrEqual(start);
      expect(port, `port ${port}`).toBeLessThan(start + 1250);
    }
    // A port held by someone else is passed over.
    const held = createServer();
    const next = second.at(-1)! + 1 < start + 1250 ? second.at(-1)! + 1 : start;
    await new Promise<void>((resolve) =>
      held.listen({ host: '127.0.0.1', port: next, exclusive: true }, resolve),
    );
    try {
      expect(await freePorts(1)).not.toContain(next);
    } finally {
      await new Promise<void>((resolve) => held.close(() => resolve()));
    }
  });

  it('leaves out of a slice the port fetch refuses, which fetch does refuse', async () => {
    const first = slicePorts(10_000);
    expect(first).toHaveLength(1249);
    expect([first[0], first.at(-1)]).toEqual([10_000, 11_249]);
    expect(first).not.toContain(10_080);
    expect(first).toContain(10_079);
    expect(first).toContain(10_081);
    expect(slicePorts(11_250)).toHaveLength(1250);
    await expect(fetch('http://127.0.0.1:10080/')).rejects.toThrow(
      expect.objectContaining({ cause: expect.objectContaining({ message: 'bad port' }) }),
    );
  });

  it('finds a block of consecutive ports free for TCP and UDP', async () => {
    const base = await freePortBlock(4);
    for (let port = base; port < base + 4; port++) {
      expect([await bindsTcp(port), await bindsUdp(port)], `port ${port}`).toEqual([true, true]);
    }
  });
});
