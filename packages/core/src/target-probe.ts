// The active health checks of a target address, one per protocol: what `health_check_interval_secs`
// runs against targets that are down.

import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { acceptErrorReason } from './errno-reasons.ts';
import { connectTarget } from './target-connect.ts';

/**
 * Resolves true when the address looks up: it took a connection (TCP), or did not refuse (UDP);
 * false when it does not; null when this host could not try (out of descriptors or memory),
 * which says nothing of the target.
 */
export type AddressProbe = (address: string, port: number, timeoutMs: number) => Promise<boolean | null>;

/** The verdict of a probe that failed with `errno`: null when the failure was this host's own. */
function failedProbe(errno: string | undefined): false | null {
  return acceptErrorReason(errno) === null ? false : null;
}

/** A TCP connect, closed at once. */
export const tcpProbe: AddressProbe = (address, port, timeoutMs) =>
  new Promise((resolve) => {
    connectTarget(address, port, timeoutMs, (errno, socket) => {
      socket?.destroy();
      resolve(errno === null ? true : failedProbe(errno));
    });
  });

const EMPTY = Buffer.alloc(0);

/**
 * An empty datagram on a connected socket. UDP has no handshake: the one answer that says a port
 * is closed is ICMP port unreachable, which arrives as an error on the socket. A reply, or
 * silence for `timeoutMs`, counts as up.
 */
export const udpProbe: AddressProbe = (address, port, timeoutMs) =>
  new Promise((resolve) => {
    const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    let settled = false;
    const settle = (up: boolean | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(up);
    };
    const timer = setTimeout(() => settle(true), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => settle(failedProbe(err.code)));
    socket.on('message', () => settle(true));
    socket.connect(port, address, () => {
      socket.send(EMPTY, (err) => {
        if (err) settle(failedProbe((err as NodeJS.ErrnoException).code));
      });
    });
  });
