// Loopback ports for one contender run, and a readiness check that does not connect: a probe
// connection would reach the target (an iperf3 server counts it as a failed test), so readiness
// is a LISTEN socket on the port in /proc/net/tcp.

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_ERRORS } from './errors.ts';

/** `count` distinct loopback ports the kernel had free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

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

interface SocketWait {
  /** What the timeout error waited for: `haproxy to listen on 9000`. */
  readonly what: string;
  /** Why it fails when the process dies first: `haproxy exited before listening on port 9000`. */
  readonly exited: string;
}

/**
 * Polls until `ready()`. `alive` is asked on every poll so a process that died during start-up
 * fails at once instead of at the timeout.
 */
async function pollUntil(
  ready: () => boolean,
  wait: SocketWait,
  timeoutMs: number,
  alive: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (!alive()) throw new Error(wait.exited);
    if (Date.now() > deadline) throw BENCH_ERRORS.error('timeout', { ms: timeoutMs, what: wait.what });
    await sleep(25);
  }
}

/** Polls until `port` is listening; `who` names the process in messages. */
export function waitForListening(
  port: number,
  who: string,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const wait = {
    what: `${who} to listen on ${port}`,
    exited: `${who} exited before listening on port ${port}`,
  };
  return pollUntil(() => isListening(port), wait, timeoutMs, alive);
}

/** Polls until an unconnected UDP socket is bound to `port` (see waitForListening). */
export function waitForUdpBound(
  port: number,
  who: string,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const wait = {
    what: `${who} to bind UDP ${port}`,
    exited: `${who} exited before binding UDP port ${port}`,
  };
  return pollUntil(() => isUdpBound(port), wait, timeoutMs, alive);
}
