// An in-process TCP echo server on loopback, for unit tests that relay through a rule.

import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';

export interface EchoServer {
  readonly port: number;
  /** Destroys the open connections and closes the server. */
  close(): Promise<void>;
}

/** Echoes every byte on 127.0.0.1 at a free port. */
export async function startEchoServer(): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
