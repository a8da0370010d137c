// Test servers listen on 127.0.0.1 at a port the kernel picks, and go away with the test's
// cleanup together with the connections they accepted.

import type { Server, Socket } from 'node:net';
import { deferCleanup } from './cleanup.ts';

/** Closes `server` and destroys the connections in `sockets`; resolves once it is closed. */
export function closeWithSockets(server: Server, sockets: Iterable<Socket>): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });
}

/** Listens on 127.0.0.1 at a free port; the test's cleanup closes it with `sockets`. */
export async function listenOnLoopback(server: Server, sockets: Iterable<Socket>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  deferCleanup(() => closeWithSockets(server, sockets));
}
