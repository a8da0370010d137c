// UDP peers for the end-to-end tests: an echo target that answers each datagram with a prefix
// naming itself, and clients that send and collect replies.

import { createSocket, type Socket } from 'node:dgram';
import { deferCleanup } from './cleanup.ts';

export interface UdpEcho {
  readonly port: number;
  readonly socket: Socket;
  /** Distinct client addresses ("addr:port") the target has seen. */
  readonly peers: Set<string>;
}

/** Echoes every datagram back prefixed with `${tag}:`. */
export function startUdpEcho(tag: string, port = 0, host = '127.0.0.1'): Promise<UdpEcho> {
  const socket = createSocket('udp4');
  const peers = new Set<string>();
  socket.on('message', (message, from) => {
    peers.add(`${from.address}:${from.port}`);
    socket.send(Buffer.concat([Buffer.from(`${tag}:`), message]), from.port, from.address);
  });
  deferCleanup(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port }, () => resolve({ port: socket.address().port, socket, peers }));
  });
}

export interface UdpClient {
  readonly socket: Socket;
  readonly replies: Buffer[];
  send(message: string | Buffer, port: number): Promise<void>;
}

export function udpClient(): Promise<UdpClient> {
  const socket = createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (message) => replies.push(message));
  deferCleanup(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return new Promise((resolve) => {
    socket.bind({ address: '127.0.0.1', port: 0 }, () =>
      resolve({
        socket,
        replies,
        send: (message, port) =>
          new Promise<void>((done, fail) =>
            socket.send(message, port, '127.0.0.1', (err) => (err ? fail(err) : done())),
          ),
      }),
    );
  });
}
