// One stack of teardown steps per test file: helpers that start a process, a server or a temp
// dir push their own teardown here, and each test file runs `afterEach(runCleanup)`, so
// nothing outlives a failed test.

import type { ChildProcess } from 'node:child_process';
import type { AddressInfo, Server, Socket } from 'node:net';

// What a teardown resolves with is ignored (a kill answers the exit status).
type Teardown = () => unknown;

const STACK: Teardown[] = [];

export function deferCleanup(teardown: Teardown): void {
  STACK.push(teardown);
}

/** Runs every registered teardown (last in, first out); reports the first failure after all ran. */
export async function runCleanup(): Promise<void> {
  let firstError: unknown = null;
  while (STACK.length > 0) {
    const teardown = STACK.pop()!;
    try {
      await teardown();
    } catch (err) {
      firstError ??= err;
    }
  }
  if (firstError !== null) throw firstError;
}

/** Destroys a server's connections and closes it; resolves once it is closed. */
export function closeWithSockets(server: Server, sockets: Iterable<Socket>): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });
}

/** Listens on a free loopback port; the cleanup destroys `sockets` and closes the server. */
export async function listenUntilCleanup(server: Server, sockets: Iterable<Socket>): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  deferCleanup(() => closeWithSockets(server, sockets));
  return (server.address() as AddressInfo).port;
}

/** SIGKILLs `child` at cleanup if it is still running, and waits for it to exit. */
export function killAtCleanup(child: ChildProcess): void {
  deferCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  });
}
