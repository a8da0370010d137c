// Helpers for tests about which target (and which address of a DNS name) a connection reached:
// a loopback DNS server of the test's own, targets that greet each connection with their own
// tag before echoing, and a client that reads that greeting through the edge.

import net from 'node:net';
import { type DnsResponder, type DnsZoneEntry, startDnsResponder, withTimeout } from '@sluice/test-kit';
import { closeWithSockets, deferCleanup } from './cleanup.ts';
import { connectTcp } from './tcp-client.ts';

export type { DnsResponder };

/** The DNS responder on 127.0.0.1 (closed by the test's cleanup); point the edge at it with `dnsEnv`. */
export async function startTestDns(zone: Readonly<Record<string, DnsZoneEntry>> = {}): Promise<DnsResponder> {
  const responder = await startDnsResponder(zone);
  deferCleanup(() => responder.close());
  return responder;
}

/** The edge's environment that makes its shards resolve target names through `responder` only. */
export function dnsEnv(responder: DnsResponder): Record<string, string> {
  return { SLUICE_DNS_SERVERS: responder.server };
}

/** How many questions of `type` for `name` the responder has received. */
export function questionsFor(responder: DnsResponder, name: string, type: 'A' | 'AAAA' = 'A'): number {
  return responder.questions.filter((q) => q.name.toLowerCase() === name.toLowerCase() && q.type === type)
    .length;
}

export interface TaggedTarget {
  readonly host: string;
  readonly port: number;
  readonly tag: string;
  /** Every socket accepted, in order (health probes included: they connect and close at once). */
  readonly accepted: net.Socket[];
  /** Sockets that sent at least one byte (a relayed client, never a probe). */
  readonly carried: net.Socket[];
  close(): Promise<void>;
}

/**
 * A TCP server on host:port (port 0: any) that writes `${tag}\n` to each connection, then
 * echoes what it reads. Rejects with the listen error (e.g. EADDRINUSE).
 */
export async function startTaggedTarget(host: string, port: number, tag = host): Promise<TaggedTarget> {
  const accepted: net.Socket[] = [];
  const carried: net.Socket[] = [];
  const server = net.createServer({ noDelay: true }, (socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    socket.once('data', () => carried.push(socket));
    socket.write(`${tag}\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed: Promise<void> | null = null;
  const target: TaggedTarget = {
    host,
    port: (server.address() as net.AddressInfo).port,
    tag,
    accepted,
    carried,
    close() {
      closed ??= closeWithSockets(server, accepted);
      return closed;
    },
  };
  deferCleanup(() => target.close());
  return target;
}

/** Tagged targets on each of `hosts`, all on one port (found by trying). */
export async function startTaggedTargetsOnOnePort(hosts: readonly string[]): Promise<TaggedTarget[]> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await startTaggedTarget(hosts[0]!, 0);
    const started = [first];
    try {
      for (const host of hosts.slice(1)) started.push(await startTaggedTarget(host, first.port));
      return started;
    } catch (err) {
      lastError = err;
      await Promise.all(started.map((target) => target.close()));
    }
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}: ${String(lastError)}`);
}

/** Reads up to and including the first newline; rejects on close, error or timeout. */
export function readLine(socket: net.Socket, timeoutMs = 5_000): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('latin1');
        const newline = text.indexOf('\n');
        if (newline < 0) return;
        off();
        socket.pause();
        if (newline + 1 < text.length) socket.unshift(Buffer.from(text.slice(newline + 1), 'latin1'));
        resolve(text.slice(0, newline));
      };
      const onClose = (): void => {
        off();
        reject(new Error(`closed before a line came (had ${JSON.stringify(text)})`));
      };
      const onError = (err: Error): void => {
        off();
        reject(err);
      };
      const off = (): void => {
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.off('error', onError);
      };
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.once('error', onError);
      socket.resume();
    }),
    timeoutMs,
    `a line from 127.0.0.1:${socket.remotePort}`,
  );
}

/** Connects to the edge at 127.0.0.1:port and returns the open socket and the tag of the target reached. */
export async function openTagged(
  port: number,
  timeoutMs = 5_000,
): Promise<{ socket: net.Socket; tag: string }> {
  const socket = await connectTcp(port, { timeoutMs });
  try {
    return { socket, tag: await readLine(socket, timeoutMs) };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** One connection through the edge: the tag of the target it reached, after one echo round trip. */
export async function reachedTag(port: number, timeoutMs = 5_000): Promise<string> {
  const { socket, tag } = await openTagged(port, timeoutMs);
  try {
    await echoLine(socket, `via-${tag}`, timeoutMs);
    return tag;
  } finally {
    socket.destroy();
  }
}

/** Sends `message` plus a newline on a tagged connection and expects it echoed back. */
export async function echoLine(socket: net.Socket, message: string, timeoutMs = 5_000): Promise<void> {
  socket.write(`${message}\n`);
  const back = await readLine(socket, timeoutMs);
  if (back !== message) throw new Error(`echo mismatch: sent ${message}, got ${back}`);
}

/**
 * Connects to the edge at 127.0.0.1:port and resolves with how the edge ended the connection
 * before any target answered: the error code (ECONNRESET for a reset, which may come before
 * the client has even seen its connect complete) or 'closed' for a plain FIN. ECONNREFUSED means
 * nothing listened. Rejects if a target's greeting arrives instead.
 */
export function endedBeforeTarget(port: number, timeoutMs = 8_000): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  deferCleanup(() => {
    socket.destroy();
  });
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      let code: string | null = null;
      socket.on('error', (err: NodeJS.ErrnoException) => {
        code = err.code ?? err.message;
      });
      socket.on('data', (chunk: Buffer) => {
        socket.destroy();
        reject(new Error(`a target answered: ${JSON.stringify(chunk.toString('latin1'))}`));
      });
      socket.once('close', () => resolve(code ?? 'closed'));
    }),
    timeoutMs,
    `the edge to close the connection on port ${port}`,
  );
}

/** A plain connect to host:port from the test: null when it connected, else the error code. */
export function directConnectError(host: string, port: number, timeoutMs = 2_000): Promise<string | null> {
  return withTimeout(
    new Promise<string | null>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(null);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    }),
    timeoutMs,
    `a connect to ${host}:${port}`,
  );
}
