// Targets that expect a PROXY protocol header first: they read it with the repo's decoder,
// record what it said, and then serve what follows it: an echo of the raw bytes, or (the TLS
// variant) a TLS server with its own certificate that answers each line reversed, as
// `openssl s_server -rev` does.

import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { type ProxyParse, parseProxyHeader } from '@sluice/core/proxy-protocol';
import { pollUntil } from '@sluice/test-kit';
import { listenUntilCleanup } from './cleanup.ts';

export interface ProxiedConnection {
  /** The decoder's verdict on the first bytes; null while they are still incomplete. */
  parse: ProxyParse | null;
  /** The header bytes as sent. */
  header: Buffer;
  /** Who connected to the target (the edge, or HAProxy). */
  readonly peer: { address: string; port: number };
  /** Payload bytes received after the header. */
  payloadBytes: number;
  /** The server name the TLS client asked for (TLS variant). */
  servername: string | null;
}

export interface ProxyTarget {
  readonly port: number;
  readonly connections: ProxiedConnection[];
  /** Waits for the `index`th connection to have a parsed header. */
  header(index: number, timeoutMs?: number): Promise<ProxiedConnection>;
}

type Serve = (socket: net.Socket, rest: Buffer, record: ProxiedConnection) => void;

async function listen(serve: Serve): Promise<ProxyTarget> {
  const connections: ProxiedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const record: ProxiedConnection = {
      parse: null,
      header: Buffer.alloc(0),
      peer: { address: socket.remoteAddress!, port: socket.remotePort! },
      payloadBytes: 0,
      servername: null,
    };
    connections.push(record);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const parse = parseProxyHeader(buffered);
      if (parse.kind === 'incomplete') return;
      socket.off('data', onData);
      socket.pause();
      record.parse = parse;
      if (parse.kind !== 'ok') {
        socket.destroy();
        return;
      }
      record.header = buffered.subarray(0, parse.headerLength);
      serve(socket, buffered.subarray(parse.headerLength), record);
    };
    socket.on('data', onData);
  });
  const port = await listenUntilCleanup(server, sockets);
  return {
    port,
    connections,
    header: (index, timeoutMs = 5_000) =>
      pollUntil(() => (connections[index]?.parse != null ? connections[index] : undefined), {
        timeoutMs,
        intervalMs: 10,
        what: `a PROXY header on connection ${index} of the target (${connections.length} so far)`,
      }),
  };
}

/** Reads the header, then echoes every byte after it; ends when the peer ends. */
export function startProxyEchoTarget(): Promise<ProxyTarget> {
  return listen((socket, rest, record) => {
    record.payloadBytes += rest.length;
    if (rest.length > 0) socket.write(rest);
    socket.on('data', (chunk: Buffer) => {
      record.payloadBytes += chunk.length;
    });
    socket.pipe(socket);
    socket.resume();
  });
}

/** The socket after its header, as a stream that starts with the bytes already read. */
function afterHeader(socket: net.Socket, rest: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, done) {
      socket.write(chunk, (err) => done(err ?? null));
    },
    final(done) {
      socket.end();
      done();
    },
    destroy(err, done) {
      socket.destroy();
      done(err);
    },
  });
  if (rest.length > 0) stream.push(rest);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.once('end', () => stream.push(null));
  socket.once('close', () => stream.destroy());
  return stream;
}

/** Reads the header, then is a TLS server with `cert`, answering each line reversed. */
export function startProxyTlsTarget(cert: { cert: string; key: string }): Promise<ProxyTarget> {
  const secureContext = tls.createSecureContext({ cert: cert.cert, key: cert.key });
  return listen((socket, rest, record) => {
    const secure = new tls.TLSSocket(afterHeader(socket, rest), { isServer: true, secureContext });
    secure.on('error', () => socket.destroy());
    secure.once('secure', () => {
      record.servername = typeof secure.servername === 'string' ? secure.servername : null;
    });
    let text = '';
    secure.setEncoding('utf8');
    secure.on('data', (chunk: string) => {
      text += chunk;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        secure.write(`${[...text.slice(0, nl)].reverse().join('')}\n`);
        text = text.slice(nl + 1);
      }
    });
    secure.on('end', () => secure.end());
  });
}
