// Targets the edge relays to: real TCP servers on loopback that record every connection they
// accept and are torn down (server and sockets) by the test's cleanup.

import net from 'node:net';
import { closeWithSockets, deferCleanup } from './cleanup.ts';

export interface TargetOptions {
  /** Keep the write side open after the peer's FIN (default false: Node ends it at once). */
  readonly allowHalfOpen?: boolean;
  /** Listen on this port instead of a free one. */
  readonly port?: number;
}

export interface TargetServer {
  readonly port: number;
  readonly server: net.Server;
  /** Every socket accepted so far, in accept order. */
  readonly accepted: net.Socket[];
  /** Resolves with the next accepted socket (or one already accepted past `index`). */
  nextConnection(index?: number): Promise<net.Socket>;
  close(): Promise<void>;
}

export async function startTarget(
  onConnection: (socket: net.Socket, index: number) => void,
  options: TargetOptions = {},
): Promise<TargetServer> {
  const accepted: net.Socket[] = [];
  const waiters: Array<{ index: number; resolve: (socket: net.Socket) => void }> = [];
  const server = net.createServer({ allowHalfOpen: options.allowHalfOpen ?? false, noDelay: true });
  server.on('connection', (socket) => {
    const index = accepted.length;
    accepted.push(socket);
    // Errors on a target socket are the test's to observe through its own listeners; an
    // unobserved reset must not crash the test runner.
    socket.on('error', () => {});
    onConnection(socket, index);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      if (waiter.index <= index) {
        waiters.splice(i, 1);
        waiter.resolve(accepted[waiter.index]!);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  let closed: Promise<void> | null = null;
  const target: TargetServer = {
    port,
    server,
    accepted,
    nextConnection(index = accepted.length) {
      const ready = accepted[index];
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve) => waiters.push({ index, resolve }));
    },
    close() {
      closed ??= closeWithSockets(server, accepted);
      return closed;
    },
  };
  deferCleanup(() => target.close());
  return target;
}

/** A target that writes back every byte it reads and ends when the peer ends. */
export function startEchoTarget(options: TargetOptions = {}): Promise<TargetServer> {
  return startTarget((socket) => {
    socket.pipe(socket);
  }, options);
}
