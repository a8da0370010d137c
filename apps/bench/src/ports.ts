// Loopback ports for one contender run, and a readiness check that does not connect: a probe
// connection would reach the target (an iperf3 server counts it as a failed test), so readiness
// is a LISTEN socket on the port in /proc/net/tcp.

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError } from './errors.ts';

/** `count` distinct loopback ports the kernel had free a moment ago. */
export { freePorts } from '@sluice/test-kit';

const TCP_LISTEN = '0A';
/** A bound, unconnected UDP socket shows as state 07 (TCP_CLOSE) in /proc/net/udp. */
const UDP_UNCONNECTED = '07';

/** Whether some socket of this network namespace listens on TCP `port` (any address, v4 or v6). */
export function isListening(port: number): boolean {
  return hasSocket(port, ['/proc/net/tcp', '/proc/net/tcp6'], TCP_LISTEN);
}

/** Whether some unconnected UDP socket of this network namespace is bound to `port`. */
export function isUdpBound(port: number): boolean {
  return hasSocket(port, ['/proc/net/udp', '/proc/net/udp6'], UDP_UNCONNECTED);
}

function hasSocket(port: number, files: readonly string[], state: string): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
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
      if (local !== undefined && fields[3] === state && local.endsWith(`:${hexPort}`)) return true;
    }
  }
  return false;
}

/**
 * Polls until `port` is listening. `alive` is asked on every poll so a process that died
 * during start-up fails at once instead of at the timeout.
 */
export async function waitForListening(
  port: number,
  what: string,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!isListening(port)) {
    if (!alive()) throw new Error(`${what} exited before listening on port ${port}`);
    if (Date.now() > deadline)
      throw new BenchError('timeout', { ms: timeoutMs, what: `${what} to listen on ${port}` });
    await sleep(25);
  }
}

/** Polls until an unconnected UDP socket is bound to `port` (see waitForListening). */
export async function waitForUdpBound(
  port: number,
  what: string,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!isUdpBound(port)) {
    if (!alive()) throw new Error(`${what} exited before binding UDP port ${port}`);
    if (Date.now() > deadline)
      throw new BenchError('timeout', { ms: timeoutMs, what: `${what} to bind UDP ${port}` });
    await sleep(25);
  }
}
