// Port ranges: `listen = "host:lo-hi"` binds every port, each reaching the target port at the
// same offset (TCP and UDP), and binds all of them or none, naming the port that failed.

import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { freePortBlock, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import { holdPort } from './helpers/foreign-listener.ts';
import { launchRawEdge } from './helpers/raw-edge.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { connectError, connectTcp, readExactly } from './helpers/tcp-client.ts';
import { startUdpEcho, udpClient } from './helpers/udp.ts';

afterEach(runCleanup);

/** A TCP server on host:port that greets each connection with its own port, 8 bytes wide. */
async function portTeller(host: string, port: number): Promise<Server> {
  const server = createServer((socket) => {
    // An edge stopped by the cleanup while a pair is still open resets it (a cut is never a FIN).
    socket.on('error', () => {});
    socket.end(`port${String(port).padStart(4, '0').slice(-4)}`);
  });
  server.listen({ host, port });
  await once(server, 'listening');
  deferCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

describe.each(RELAY_PATHS)('port ranges (%s path)', (relayPath) => {
  it('binds 100 ports, each reaching its own offset of the target range', async () => {
    const WIDTH = 100;
    const listen = await freePortBlock(WIDTH);
    // Targets on 127.0.0.2 with the same ports: a target without a port keeps the listen port.
    await Promise.all(Array.from({ length: WIDTH }, (_, i) => portTeller('127.0.0.2', listen + i)));
    const { metrics } = await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "range"\nlisten = "127.0.0.1:${listen}-${listen + WIDTH - 1}"\ntargets = ["127.0.0.2"]\n`,
    );
    for (let i = 0; i < WIDTH; i++) {
      const socket = await connectTcp(listen + i);
      const greeting = (await readExactly(socket, 8)).toString();
      socket.destroy();
      expect(greeting).toBe(`port${String(listen + i).slice(-4)}`);
    }
    const rule = await metrics.rule('range');
    expect(rule.listen).toBe(`127.0.0.1:${listen}-${listen + WIDTH - 1}`);
    expect(rule.connections_total).toBe(WIDTH);
  });

  it('maps a listen range onto a target range of the same width by offset', async () => {
    const listen = await freePortBlock(5);
    const target = await freePortBlock(5);
    await Promise.all(Array.from({ length: 5 }, (_, i) => portTeller('127.0.0.1', target + i)));
    await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "r"\nlisten = "127.0.0.1:${listen}-${listen + 4}"\ntargets = ["127.0.0.1:${target}-${target + 4}"]\n`,
    );
    for (let i = 0; i < 5; i++) {
      const socket = await connectTcp(listen + i);
      expect((await readExactly(socket, 8)).toString()).toBe(`port${String(target + i).slice(-4)}`);
      socket.destroy();
    }
  });

  it('binds all ports or none: a held port in the middle fails the rule, naming that port', async () => {
    const listen = await freePortBlock(10);
    await holdPort(listen + 6, false); // a foreign process, killed by the cleanup
    const { metrics } = await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "r"\nlisten = "127.0.0.1:${listen}-${listen + 9}"\ntargets = ["127.0.0.1:9"]\n`,
    );
    const rule = await metrics.rule('r');
    expect(rule).toMatchObject({ state: 'failed', reason: 'port_in_use' });
    expect((rule as unknown as { error: string }).error).toContain(`127.0.0.1:${listen + 6}`);
    // No port of the range stayed bound.
    for (const i of [0, 5, 7, 9]) expect(await connectError(listen + i)).toBe('ECONNREFUSED');
  });
});

describe.each(RELAY_PATHS)('UDP port ranges (%s path)', (relayPath) => {
  it('relays each port of a UDP range to its own offset', async () => {
    const listen = await freePortBlock(10);
    const target = await freePortBlock(10);
    await Promise.all(Array.from({ length: 10 }, (_, i) => startUdpEcho(`p${i}`, target + i)));
    await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "u"\nprotocol = "udp"\nlisten = "127.0.0.1:${listen}-${listen + 9}"\ntargets = ["127.0.0.1:${target}-${target + 9}"]\n`,
    );
    const client = await udpClient();
    for (let i = 0; i < 10; i++) await client.send(`to${i}`, listen + i);
    await pollUntil(() => client.replies.length === 10, { timeoutMs: 5_000, what: '10 replies' });
    expect(client.replies.map((r) => r.toString()).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `p${i}:to${i}`).sort(),
    );
  });
});
