// A minimal edge for sluice-server's tests and the control-plane bench: a real TLS connection to
// the control listener, pinned like the real edge, speaking the protocol with @sluice/protocol's
// framing and schemas. It answers pings, acks pushes the way its user tells it to (or not at all),
// and lets its user read every server message.

import { randomUUID } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import {
  checkPin,
  type EdgeMessage,
  encodeFrame,
  FrameReader,
  PROTOCOL_VERSION,
  type RuleResult,
  type ServerMessage,
  serverMessageSchema,
} from '@sluice/protocol';

export type PushMessage = Extract<ServerMessage, { type: 'push' }>;

/** What the fake edge answers a push with: results to ack, or null to stay silent. */
export type AckPolicy = (push: PushMessage) => RuleResult[] | null;

/** Acks every upserted rule active and every removed one removed. */
export const ACK_ALL_ACTIVE: AckPolicy = (push) => [
  ...push.upsert.map((rule) => ({ ruleId: rule.id, revision: rule.revision, state: 'active' as const })),
  ...push.remove.map((ruleId) => ({ ruleId, revision: 0, state: 'removed' as const })),
];

export interface FakeEdgeOptions {
  readonly port: number;
  readonly pin: string;
  readonly host?: string;
  readonly ack?: AckPolicy | null;
}

/** Anything the edge may send, valid or not (tests send malformed messages on purpose). */
export type OutgoingMessage = EdgeMessage | Record<string, unknown>;

export class FakeEdge {
  readonly socket: TLSSocket;
  /** Every server message, in order. */
  readonly received: ServerMessage[] = [];
  ack: AckPolicy | null;
  private readonly reader = new FrameReader();
  private readonly waiting: Array<() => void> = [];
  private cursor = 0;
  private _closed = false;
  /** Why the connection ended: `closed`, or the socket or protocol error that ended it. */
  endReason: string | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: TLSSocket, ack: AckPolicy | null) {
    this.socket = socket;
    this.ack = ack;
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.reader.push(chunk)) this.onMessage(serverMessageSchema.parse(frame));
      } catch (err) {
        // A frame the protocol does not allow ends the session, as it would on a real edge.
        this.end(`protocol_error: ${(err as Error).message}`);
      }
      this.wake();
    });
    socket.on('error', (err) => this.end(`socket_error: ${err.message}`));
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.endReason ??= 'closed';
        this._closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** A fake edge on a TLS socket its caller connected (and checked the pin of) itself. */
  static over(socket: TLSSocket, ack: AckPolicy | null = null): FakeEdge {
    return new FakeEdge(socket, ack);
  }

  static connect(options: FakeEdgeOptions): Promise<FakeEdge> {
    return new Promise((resolve, reject) => {
      // The certificate is self-signed: the pin replaces chain verification, as in the edge.
      const socket = connect(
        { host: options.host ?? '127.0.0.1', port: options.port, rejectUnauthorized: false },
        () => {
          const problem = checkPin(socket, options.pin);
          if (problem !== null) {
            socket.destroy();
            reject(problem);
            return;
          }
          resolve(new FakeEdge(socket, options.ack ?? null));
        },
      );
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this._closed;
  }

  send(message: OutgoingMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(message));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  hello(edgeId: string, secret: string, bootId: string = randomUUID(), version = PROTOCOL_VERSION): void {
    this.send({ type: 'hello', version, edgeId, secret, bootId, capabilities: [], ruleCount: 0 });
  }

  /** The next server message not yet taken (of `type`, skipping others), within `timeoutMs`. */
  async next<T extends ServerMessage['type']>(
    type?: T,
    timeoutMs = 3000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.received.length) {
        const message = this.received[this.cursor++]!;
        if (type === undefined || message.type === type)
          return message as Extract<ServerMessage, { type: T }>;
      }
      if (this._closed) {
        throw new Error(`connection ${this.endReason ?? 'closed'} while waiting for ${type ?? 'a message'}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type ?? 'message'} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private onMessage(message: ServerMessage): void {
    this.received.push(message);
    if (message.type === 'ping') this.send({ type: 'pong' });
    if (message.type === 'push' && this.ack !== null) {
      const results = this.ack(message);
      if (results !== null) this.send({ type: 'ack', pushId: message.pushId, results });
    }
  }

  private end(reason: string): void {
    this.endReason ??= reason;
    this.socket.destroy();
  }

  private wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/** Redeems an enrollment code; answers the server's reply (enrolled or refused). */
export async function enrollEdge(
  options: { port: number; pin: string },
  code: string,
): Promise<Extract<ServerMessage, { type: 'enrolled' | 'refused' }>> {
  const edge = await FakeEdge.connect(options);
  edge.send({ type: 'enroll', version: PROTOCOL_VERSION, code, hostname: 'fake-edge' });
  const reply = await edge.next();
  await edge.closed;
  if (reply.type !== 'enrolled' && reply.type !== 'refused')
    throw new Error(`unexpected reply ${reply.type}`);
  return reply;
}
