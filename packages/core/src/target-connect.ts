// Opens the upstream connection to one target with a connect timeout.

import { connect, type Socket } from 'node:net';
import { type ConnectErrorReason, connectErrorReason } from './errors.ts';

export interface PendingConnect {
  /** The client went away first: abandon the attempt without reporting it. */
  abort(): void;
}

export function connectTarget(
  host: string,
  port: number,
  timeoutMs: number,
  done: (error: ConnectErrorReason | null, socket: Socket | null) => void,
): PendingConnect {
  const socket = connect({ host, port, noDelay: true, allowHalfOpen: true });
  let settled = false;
  const settle = (error: ConnectErrorReason | null): void => {
    if (settled) return;
    settled = true;
    socket.removeListener('connect', onConnect);
    socket.removeListener('error', onError);
    socket.removeListener('timeout', onTimeout);
    socket.setTimeout(0);
    if (error) {
      socket.destroy();
      done(error, null);
    } else {
      // Nothing reads it until the relay starts; bytes the target sends first wait in the kernel.
      socket.pause();
      done(null, socket);
    }
  };
  const onConnect = (): void => settle(null);
  const onError = (err: NodeJS.ErrnoException): void => settle(connectErrorReason(err.code));
  const onTimeout = (): void => settle('timeout');
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
