// TLS clients from Node's tls module that connect through the edge: one that completes a
// handshake and does one line round trip (reporting which certificate answered), one that
// expects to be closed before any handshake, and a "hello splitter" in front of the edge that
// delivers a client's ClientHello in tiny TCP writes, optionally re-framed into several TLS
// records and preceded by a PROXY header.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { withTimeout } from '@sluice/test-kit';
import { deferCleanup, listenUntilCleanup } from './cleanup.ts';

export interface TlsClientOptions {
  /** Sent as SNI; left out, no SNI is sent (the host is an IP address). */
  readonly servername?: string;
  readonly maxVersion?: tls.SecureVersion;
  readonly ALPNProtocols?: string[];
  /** Connect from this local address (127.0.0.0/8) instead of 127.0.0.1. */
  readonly localAddress?: string;
  readonly timeoutMs?: number;
}

export interface TlsExchange {
  /** CN of the certificate the server presented. */
  readonly peerCn: string;
  /** The line the server answered, without its newline. */
  readonly reply: string;
  readonly protocol: string | null;
  /** Our end of the TCP connection. */
  readonly local: { address: string; port: number };
}

function openTls(port: number, options: TlsClientOptions): tls.TLSSocket {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    // Self-signed throwaway certificates: who answered is told by the CN, not by a chain.
    rejectUnauthorized: false,
    ...(options.servername === undefined ? {} : { servername: options.servername }),
    ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
    ...(options.ALPNProtocols === undefined ? {} : { ALPNProtocols: options.ALPNProtocols }),
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
  });
  socket.on('error', () => {});
  deferCleanup(() => {
    socket.destroy();
  });
  return socket;
}

/** Handshakes through `port`, sends `line`, reads one line back, closes. */
export async function tlsExchange(
  port: number,
  line: string,
  options: TlsClientOptions = {},
): Promise<TlsExchange> {
  const socket = openTls(port, options);
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    return await withTimeout(
      new Promise<TlsExchange>((resolve, reject) => {
        let text = '';
        socket.once('error', reject);
        socket.once('close', () => reject(new Error(`closed after "${text}" (no full line)`)));
        socket.once('secureConnect', () => {
          socket.setEncoding('utf8');
          socket.on('data', (chunk: string) => {
            text += chunk;
            const nl = text.indexOf('\n');
            if (nl >= 0) {
              resolve({
                peerCn: String(socket.getPeerCertificate().subject?.CN),
                reply: text.slice(0, nl),
                protocol: socket.getProtocol(),
                local: { address: socket.localAddress!, port: socket.localPort! },
              });
            }
          });
          socket.write(`${line}\n`);
        });
      }),
      timeoutMs,
      `a TLS round trip through 127.0.0.1:${port} (servername ${options.servername})`,
    );
  } finally {
    socket.end();
  }
}

/**
 * Connects and expects the peer to close before any handshake completes. Resolves with how
 * long that took (ms); rejects if a handshake completes.
 */
export async function tlsRefused(port: number, options: TlsClientOptions = {}): Promise<number> {
  const started = performance.now();
  const socket = openTls(port, options);
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      socket.once('secureConnect', () => {
        reject(new Error(`a handshake completed with ${String(socket.getPeerCertificate().subject?.CN)}`));
        socket.destroy();
      });
      socket.once('close', () => resolve(performance.now() - started));
    }),
    options.timeoutMs ?? 10_000,
    `the edge to close a TLS client (servername ${options.servername})`,
  );
}

export interface SplitterOptions {
  /** Bytes per TCP write while the ClientHello is sent (default 1). */
  readonly pieceBytes?: number;
  /**
   * Pause after a write, ms (default 1), so the pieces arrive (and are read) apart: after each
   * of the first 64 writes (record and handshake headers, the start of the body), then after
   * every 16th. Every write waits for the one before it to reach the kernel anyway.
   */
  readonly pauseMs?: number;
  /** Re-frame the ClientHello into TLS records carrying at most this many handshake bytes each. */
  readonly recordBytes?: number;
  /** Sent first, as part of the same stream of small writes (a PROXY header). */
  readonly prefix?: Buffer;
}

export interface HelloSplitter {
  readonly port: number;
  /** Per connection: how many writes carried the prefix and ClientHello, and how many records it became. */
  readonly sent: { writes: number; records: number; helloBytes: number }[];
}

/** The first whole TLS record in `data`, or null while it is incomplete. */
function firstRecord(data: Buffer): Buffer | null {
  if (data.length < 5) return null;
  const length = data.readUInt16BE(3);
  return data.length >= 5 + length ? data.subarray(0, 5 + length) : null;
}

/** The record's handshake bytes cut into records of at most `size` bytes, same type and version. */
function reframe(record: Buffer, size: number): Buffer[] {
  const fragment = record.subarray(5);
  const records: Buffer[] = [];
  for (let offset = 0; offset < fragment.length; offset += size) {
    const piece = fragment.subarray(offset, offset + size);
    const header = Buffer.from([record[0]!, record[1]!, record[2]!, 0, 0]);
    header.writeUInt16BE(piece.length, 3);
    records.push(header, piece);
  }
  return records;
}

/**
 * A TCP server on 127.0.0.1 that forwards each connection to `edgePort`: the client's first
 * TLS record (its ClientHello) goes out in small writes (after `prefix`), everything after it
 * and everything coming back is piped through untouched. Closed by the test's cleanup.
 */
export async function startHelloSplitter(
  edgePort: number,
  options: SplitterOptions = {},
): Promise<HelloSplitter> {
  const pieceBytes = options.pieceBytes ?? 1;
  const pauseMs = options.pauseMs ?? 1;
  const sent: HelloSplitter['sent'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: edgePort, noDelay: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const stats = { writes: 0, records: 0, helloBytes: 0 };
    sent.push(stats);
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      const record = firstRecord(pending);
      if (record === null) return;
      client.off('data', onData);
      client.pause();
      const rest = pending.subarray(record.length);
      const parts = options.recordBytes === undefined ? [record] : reframe(record, options.recordBytes);
      stats.records = options.recordBytes === undefined ? 1 : parts.length / 2;
      stats.helloBytes = record.length;
      const bytes = Buffer.concat([options.prefix ?? Buffer.alloc(0), ...parts]);
      void (async () => {
        for (let offset = 0; offset < bytes.length && !upstream.destroyed; offset += pieceBytes) {
          await new Promise<void>((resolve) =>
            upstream.write(bytes.subarray(offset, offset + pieceBytes), () => resolve()),
          );
          stats.writes++;
          if (pauseMs > 0 && (stats.writes <= 64 || stats.writes % 16 === 0)) await sleep(pauseMs);
        }
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream);
        client.resume();
      })();
    };
    client.on('data', onData);
  });
  const port = await listenUntilCleanup(server, sockets);
  return { port, sent };
}
