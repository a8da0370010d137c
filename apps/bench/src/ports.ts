// Loopback ports for one contender run, and a readiness check that does not connect: a probe
// connection would reach the target (an iperf3 server counts it as a failed test), so readiness
// is a LISTEN socket on the port in /proc/net/tcp (for UDP, a bound socket in /proc/net/udp).

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_ERRORS } from './errors.ts';

/** `count` distinct loopback ports the kernel had free a moment ago. */
export { freePorts } from '@sluice/test-kit';

const TCP_LISTEN = '0A';
/** A bound, unconnected UDP socket shows as state 07 (TCP_CLOSE) in /proc/net/udp. */
const UDP_UNCONNECTED = '07';

/** The local ports of the sockets in `state` in these /proc/net tables (any address, v4 or v6). */
function portsInState(files: readonly string[], state: string): Set<number> {
  const ports = new Set<number>();
  for (const file of files) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined || fields[3] !== state) continue;
      ports.add(Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return ports;
}

/** Every TCP port some socket of this network namespace listens on now. */
export function listeningTcpPorts(): Set<number> {
  return portsInState(['/proc/net/tcp', '/proc/net/tcp6'], TCP_LISTEN);
}

/** Whether some socket of this network namespace listens on TCP `port`. */
function isListening(port: number): boolean {
  return listeningTcpPorts().has(port);
}

/** Whether some unconnected UDP socket of this network namespace is bound to `port`. */
function isUdpBound(port: number): boolean {
  return portsInState(['/proc/net/udp', '/proc/net/udp6'], UDP_UNCONNECTED).has(port);
}

const SOCKETS = {
  tcp: { bound: isListening, waitingTo: 'listen on', exitedBefore: 'listening on port' },
  udp: { bound: isUdpBound, waitingTo: 'bind UDP', exitedBefore: 'binding UDP port' },
} as const;

/**
 * Polls until a TCP socket listens on `port`, or an unconnected UDP socket is bound to it; `who`
 * names the process in messages. `alive` is asked on every poll so a process that died during
 * start-up fails at once instead of at the timeout.
 */
export async function waitForSocket(
  protocol: keyof typeof SOCKETS,
  port: number,
  who: string,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const socket = SOCKETS[protocol];
  const deadline = Date.now() + timeoutMs;
  while (!socket.bound(port)) {
    if (!alive()) throw new Error(`${who} exited before ${socket.exitedBefore} ${port}`);
    if (Date.now() > deadline) {
      throw BENCH_ERRORS.error('timeout', { ms: timeoutMs, what: `${who} to ${socket.waitingTo} ${port}` });
    }
    await sleep(25);
  }
}
