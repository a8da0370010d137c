// SO_REUSEPORT lets any process of the same user join a port group silently, so binding with
// reusePort cannot tell a foreign holder from our own shards. Before the shards bind a new
// listener, the supervisor binds the same address once WITHOUT SO_REUSEPORT: any socket already
// holding it, reuseport or not, makes that bind fail with EADDRINUSE. A range is probed port by
// port, and the first port that fails is the one named.
//
// The addon probes in a few synchronous syscalls; node:net and node:dgram (when the addon is
// off) need a handle, a loop turn and a close callback per port, which made the probes about a
// fifth of a 10,000-rule replay.

import { createSocket } from 'node:dgram';
import { createServer, isIPv6 } from 'node:net';
import type { ListenSpec, Protocol } from '@sluice/config';
import { probeBind, spliceErrnoCode } from '@sluice/splice';
import { bindError, type CoreErrorData, nativeBindError } from './errors.ts';
import { addonReadsAddress } from './native-address.ts';
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

/**
 * The addon's probe of one port: undefined when the addon is off or cannot read the host (a
 * name, or an IPv6 zone), else null or the error.
 */
function probeNative(host: string, port: number, udp: boolean): CoreErrorData | null | undefined {
  if (!addonReadsAddress(host)) return undefined;
  const result = probeBind(host, port, udp);
  if (result === null) return undefined;
  if (result === 0) return null;
  return nativeBindError(udp ? 'bind' : 'listen', spliceErrnoCode(result), host, port);
}

export async function probeListen(listen: ListenSpec, protocol: Protocol): Promise<CoreErrorData | null> {
  const udp = protocol === 'udp';
  const probe = udp ? probeUdp : probeTcp;
  for (const port of listenPorts(listen)) {
    const native = probeNative(listen.host, port, udp);
    const error = native === undefined ? await probe(listen.host, port) : native;
    if (error) return error;
  }
  return null;
}
