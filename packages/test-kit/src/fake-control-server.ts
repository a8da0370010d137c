// A stand-in for sluice-server's control listener, for the edge's tests: a real TLS server on 127.0.0.1 with
// a self-signed certificate made by openssl, speaking packages/protocol. It records every byte
// each connection sent (so a test can check that a wrong pin sent nothing), answers enroll and
// hello as told, and lets a test push rules, read acks and stats, and drop sessions.

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import {
  type EdgeMessage,
  edgeMessageSchema,
  encodeFrame,
  FrameReader,
  fingerprint,
  formatEnrollUri,
  type PushedRule,
  type ServerMessage,
} from '@sluice/protocol';
import { removeDir, tempDir } from './temp-dir.ts';

export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
  /** SHA-256 of the DER certificate: the pin. */
  readonly pin: string;
}

/** A fresh self-signed EC certificate for CN=localhost (openssl req -x509). */
export function makeCertificate(): TestCertificate {
  const dir = tempDir('sluice-cert-');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert,
      pin: fingerprint(new X509Certificate(cert).raw),
    };
  } finally {
    removeDir(dir);
  }
}

type Hello = Extract<EdgeMessage, { type: 'hello' }>;
type Enroll = Extract<EdgeMessage, { type: 'enroll' }>;
type Ack = Extract<EdgeMessage, { type: 'ack' }>;

interface Waiter {
  readonly predicate: (message: EdgeMessage) => boolean;
  readonly resolve: (message: EdgeMessage) => void;
}

export class FakeSession {
  readonly socket: TLSSocket;
  /** Every valid message this connection sent, in order. */
  readonly messages: EdgeMessage[] = [];
  /** Raw bytes this connection sent after the handshake. */
  bytesReceived = 0;
  /** The first frame that did not validate, if any. */
  invalid: unknown = null;
  closed = false;
  readonly ended: Promise<void>;
  private readonly reader = new FrameReader();
  private readonly waiters = new Set<Waiter>();
  private nextPushId = 1;
  private readonly server: FakeControlServer;

  constructor(socket: TLSSocket, server: FakeControlServer) {
    this.socket = socket;
    this.server = server;
    socket.on('error', () => {});
    this.ended = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      for (const frame of this.reader.push(chunk)) {
        const parsed = edgeMessageSchema.safeParse(frame);
        if (!parsed.success) {
          this.invalid ??= frame;
          continue;
        }
        this.onMessage(parsed.data);
      }
    });
  }

  get hello(): Hello | undefined {
    return this.messages.find((m): m is Hello => m.type === 'hello');
  }

  send(message: ServerMessage): void {
    this.socket.write(encodeFrame(message));
  }

  /** Resolves with the first message (already received or to come) that matches. */
  waitFor<T extends EdgeMessage['type']>(
    type: T,
    predicate: (message: Extract<EdgeMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<EdgeMessage, { type: T }>> {
    const match = (m: EdgeMessage): boolean =>
      m.type === type && predicate(m as Extract<EdgeMessage, { type: T }>);
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen as Extract<EdgeMessage, { type: T }>);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate: match,
        resolve: (m) => resolve(m as Extract<EdgeMessage, { type: T }>),
      };
      this.waiters.add(waiter);
      setTimeout(() => {
        if (!this.waiters.delete(waiter)) return;
        reject(
          new Error(
            `no ${type} message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}`,
          ),
        );
      }, timeoutMs).unref();
    });
  }

  /** Sends a push and resolves with its ack. */
  async push(
    upsert: PushedRule[],
    options: { remove?: string[]; full?: boolean; owners?: Record<string, Record<string, unknown>> } = {},
  ): Promise<Ack> {
    const pushId = this.nextPushId++;
    this.send({
      type: 'push',
      pushId,
      full: options.full ?? false,
      upsert,
      remove: options.remove ?? [],
      ...(options.owners ? { owners: options.owners } : {}),
    });
    return this.waitFor('ack', (ack) => ack.pushId === pushId, 20_000);
  }

  /** Ends the connection abruptly. */
  drop(): void {
    this.socket.destroy();
  }

  private onMessage(message: EdgeMessage): void {
    this.messages.push(message);
    switch (message.type) {
      case 'enroll':
        this.send(this.server.onEnroll(message));
        break;
      case 'hello': {
        const answer = this.server.onHello(message);
        this.send(answer);
        if (answer.type === 'refused') this.socket.end();
        break;
      }
      case 'ping':
        if (this.server.answerPings) this.send({ type: 'pong' });
        break;
      default:
        break;
    }
    for (const waiter of this.waiters) {
      if (waiter.predicate(message)) {
        this.waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
  }
}

export interface FakeControlServerOptions {
  readonly certificate?: TestCertificate;
  readonly port?: number;
  readonly statsIntervalMs?: number;
  /**
   * 'TLSv1.2': the server's side of the handshake is complete before the client's is, so a
   * session exists (and would record any byte) before the client decides whether to send.
   */
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export class FakeControlServer {
  readonly certificate: TestCertificate;
  readonly statsIntervalMs: number;
  /** Every connection made, in order (enrollments and sessions alike). */
  readonly sessions: FakeSession[] = [];
  /** TCP connections accepted, whether or not their TLS handshake completed. */
  rawConnections = 0;
  answerPings = true;
  onEnroll: (message: Enroll) => ServerMessage = () => ({
    type: 'enrolled',
    edgeId: 'edge-1',
    name: 'edge-01',
    secret: 's3cret-s3cret',
  });
  onHello: (message: Hello) => ServerMessage = (hello) => ({
    type: 'welcome',
    edgeId: hello.edgeId,
    name: 'edge-01',
    statsIntervalMs: this.statsIntervalMs,
  });
  private server: Server | null = null;
  private portNumber = 0;
  private readonly waiters: ((session: FakeSession) => void)[] = [];
  private readonly maxVersion: 'TLSv1.2' | 'TLSv1.3';

  private constructor(options: FakeControlServerOptions) {
    this.certificate = options.certificate ?? makeCertificate();
    this.maxVersion = options.maxVersion ?? 'TLSv1.3';
    this.statsIntervalMs = options.statsIntervalMs ?? 5_000;
    this.portNumber = options.port ?? 0;
  }

  static async start(options: FakeControlServerOptions = {}): Promise<FakeControlServer> {
    const fake = new FakeControlServer(options);
    await fake.listen();
    return fake;
  }

  get port(): number {
    return this.portNumber;
  }

  get pin(): string {
    return this.certificate.pin;
  }

  /** The enrollment URI for this server (with another pin, to test a mismatch). */
  enrollUri(code: string, pin = this.pin): string {
    return formatEnrollUri({ servers: [{ host: '127.0.0.1', port: this.port }], pin, code });
  }

  /** Starts listening (again, on the same port after close()). */
  async listen(): Promise<void> {
    const tls = { key: this.certificate.key, cert: this.certificate.cert, maxVersion: this.maxVersion };
    const server = createServer(tls, (socket) => {
      const session = new FakeSession(socket, this);
      this.sessions.push(session);
      for (const waiter of this.waiters.splice(0)) waiter(session);
    });
    server.on('connection', () => {
      this.rawConnections++;
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.portNumber }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.portNumber = (server.address() as AddressInfo).port;
  }

  /** The next connection from now (or the `index`th, if it already came). */
  nextSession(index = this.sessions.length, timeoutMs = 15_000): Promise<FakeSession> {
    const ready = this.sessions[index];
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no connection #${index} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      timer.unref();
      const check = (): void => {
        const session = this.sessions[index];
        if (session) {
          clearTimeout(timer);
          resolve(session);
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const session of this.sessions) session.drop();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A pushed rule for tests: a TCP rule from 127.0.0.1:listenPort to 127.0.0.1:targetPort. */
export function tcpRule(
  id: string,
  name: string,
  listenPort: number,
  targetPort: number,
  extra: { revision?: number; owner?: string; rule?: Record<string, unknown> } = {},
): PushedRule {
  return {
    id,
    revision: extra.revision ?? 1,
    owner: extra.owner ?? 'default',
    rule: { name, listen: `127.0.0.1:${listenPort}`, targets: [`127.0.0.1:${targetPort}`], ...extra.rule },
  };
}
