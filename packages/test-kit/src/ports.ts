// Free loopback ports for edges, targets, servers and metrics listeners. Configs accept only
// 1..65535, so a port is found by binding port 0 and reading back what the kernel gave; it is
// free "a moment ago", which is as good as a test on one host gets.

import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server } from 'node:net';

function listenOn(port: number, host: string): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** `count` distinct free TCP ports: every probe stays bound until all are known, so none repeats. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = await listenOn(0, host);
      if (server === null) throw new Error(`cannot bind port 0 on ${host}`);
      servers.push(server);
    }
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port!;
}

function bindUdp(port: number, host: string): Promise<{ close(): void } | null> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => resolve(null));
    socket.bind({ address: host, port, exclusive: true }, () => resolve(socket));
  });
}

/** The first of `count` consecutive ports free for TCP and UDP on `host`, found by binding them all. */
export async function freePortBlock(count: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const held: { close(): void }[] = [];
    let ok = true;
    for (let port = base; port < base + count && ok; port++) {
      const tcp = await listenOn(port, host);
      const udp = tcp === null ? null : await bindUdp(port, host);
      for (const socket of [tcp, udp]) if (socket !== null) held.push(socket);
      ok = tcp !== null && udp !== null;
    }
    for (const socket of held) socket.close();
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports on ${host}`);
}
