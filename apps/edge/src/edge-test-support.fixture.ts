// Test support for the edge's unit tests (never imported by production code): a pino logger
// that keeps every line it writes, and an echo server on loopback.

import { once } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';

export type LogLine = Record<string, unknown> & { msg: string };

/** A logger at level info whose lines are parsed into `logs` as they are written. */
export function capturingLogger(logs: LogLine[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') logs.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

export interface EchoServer {
  readonly port: number;
  /** Destroys its connections and closes it. */
  close(): Promise<void>;
}

/** A server on 127.0.0.1 that writes back every byte it reads. */
export async function startEchoServer(): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
