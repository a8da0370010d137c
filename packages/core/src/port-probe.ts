// SO_REUSEPORT lets any process of the same user join a port group silently, so binding with
// reusePort cannot tell a foreign holder from our own shards. Before the shards bind a new
// listener, the supervisor binds the same address once WITHOUT SO_REUSEPORT: any socket already
// holding it, reuseport or not, makes that bind fail with EADDRINUSE. A range is probed port by
// port, and the first port that fails is the one named.

import { createSocket } from 'node:dgram';
import { createServer, isIPv6 } from 'node:net';
import type { ListenSpec, Protocol } from '@sluice/config';
import { bindError, type CoreErrorData } from './errors.ts';
import { listenPorts } from './port-map.ts';

function probeTcp(host: string, port: number): Promise<CoreErrorData | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolve(bindError(err, host, port));
    });
    server.listen({ host, port, exclusive: true, backlog: 1 }, () => {
      server.close(() => resolve(null));
    });
  });
}

function probeUdp(host: string, port: number): Promise<CoreErrorData | null> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      resolve(bindError(err, host, port));
    });
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.close(() => resolve(null));
    });
  });
}

export async function probeListen(listen: ListenSpec, protocol: Protocol): Promise<CoreErrorData | null> {
  const probe = protocol === 'udp' ? probeUdp : probeTcp;
  for (const port of listenPorts(listen)) {
    const error = await probe(listen.host, port);
    if (error) return error;
  }
  return null;
}
