// Opens the upstream connection to one target with a connect timeout.

import { connect, type Socket } from 'node:net';

export interface PendingConnect {
  /** The client went away first: abandon the attempt without reporting it. */
  abort(): void;
}

/**
 * Calls `done` once: with the connected socket (paused), or with why it failed as an errno code
 * (`ETIMEDOUT` when the timeout ran out first).
 */
export function connectTarget(
  host: string,
  port: number,
  timeoutMs: number,
  done: (errno: string | null, socket: Socket | null) => void,
): PendingConnect {
  const socket = connect({ host, port, noDelay: true, allowHalfOpen: true });
  let settled = false;
  const settle = (errno: string | null): void => {
    if (settled) return;
    settled = true;
    socket.removeListener('connect', onConnect);
    socket.removeListener('error', onError);
    socket.removeListener('timeout', onTimeout);
    socket.setTimeout(0);
    if (errno !== null) {
      socket.destroy();
      done(errno, null);
    } else {
      // Nothing reads it until the relay starts; bytes the target sends first wait in the kernel.
      socket.pause();
      done(null, socket);
    }
  };
  const onConnect = (): void => settle(null);
  const onError = (err: NodeJS.ErrnoException): void => settle(err.code ?? 'EUNKNOWN');
  const onTimeout = (): void => settle('ETIMEDOUT');
  socket.once('connect', onConnect);
  socket.once('error', onError);
  socket.once('timeout', onTimeout);
  socket.setTimeout(timeoutMs);
  return {
    abort(): void {
      if (settled) return;
      settled = true;
      socket.destroy();
    },
  };
}
