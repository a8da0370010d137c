// A simulated managed edge: a protocol client in the bench process, not a data plane. It speaks
// @sluice/protocol over a real TLS connection pinned to the server's certificate, as sluice-edge
// does: `enroll` on its own connection, then a session with `hello`; it acks every push (every
// upserted rule `active`, every removed one `removed`), sends cumulative `stats` for the rules it
// holds every `statsIntervalMs` of the welcome (counters that grow as if traffic flowed), pings
// every 10 s and answers pings. No listener is bound: the server cannot tell the difference, which
// is what lets one bench process stand in for 50 edges when measuring the server.

import { randomUUID } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import {
  checkPin,
  type EdgeMessage,
  encodeFrame,
  FrameReader,
  PROTOCOL_VERSION,
  type RuleResult,
  type RuleStats,
  type ServerMessage,
  serverMessageSchema,
} from '@sluice/protocol';

export interface ControlTarget {
  readonly host: string;
  readonly port: number;
  /** SHA-256 of the server certificate (hex), from the enrollment URI. */
  readonly pin: string;
}

export interface EdgeCredentials {
  readonly edgeId: string;
  readonly name: string;
  readonly secret: string;
}

const PING_INTERVAL_MS = 10_000;

/** A TLS connection whose peer certificate matched the pin; nothing is sent before the check. */
function connectPinned(target: ControlTarget, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, rejectUnauthorized: false });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no TLS session within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      const mismatch = checkPin(socket, target.pin);
      if (mismatch !== null) {
        fail(mismatch);
        return;
      }
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** Frames in, validated; frames out. */
class Channel {
  readonly socket: TLSSocket;
  readonly #reader = new FrameReader();
  #onMessage: (message: ServerMessage) => void = () => {};
  #onEnd: (reason: string) => void = () => {};
  #ended = false;

  constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.#ended) return;
      let frames: unknown[];
      try {
        frames = this.#reader.push(chunk);
      } catch (err) {
        this.end(`protocol_error: ${(err as Error).message}`);
        return;
      }
      for (const frame of frames) {
        const parsed = serverMessageSchema.safeParse(frame);
        if (!parsed.success) {
          this.end(`protocol_error: ${parsed.error.issues[0]?.message ?? 'invalid frame'}`);
          return;
        }
        this.#onMessage(parsed.data);
        if (this.#ended) return;
      }
    });
    socket.on('error', (err) => this.end(`socket_error: ${err.message}`));
    socket.on('close', () => this.end('server_closed'));
  }

  on(handlers: { message: (message: ServerMessage) => void; end: (reason: string) => void }): void {
    this.#onMessage = handlers.message;
    this.#onEnd = handlers.end;
  }

  get ended(): boolean {
    return this.#ended;
  }

  send(message: EdgeMessage): void {
    if (!this.#ended) this.socket.write(encodeFrame(message));
  }

  end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.socket.destroy();
    this.#onEnd(reason);
  }
}

/** The first message of `type` on `channel` (a refusal or the end rejects), within `timeoutMs`. */
function firstMessage<T extends ServerMessage['type']>(
  channel: Channel,
  type: T,
  timeoutMs: number,
  onOther: (message: ServerMessage) => void = () => {},
): Promise<Extract<ServerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      channel.end('timeout');
      reject(new Error(`no ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    channel.on({
      message: (message) => {
        if (message.type === type) {
          clearTimeout(timer);
          resolve(message as Extract<ServerMessage, { type: T }>);
        } else if (message.type === 'refused') {
          clearTimeout(timer);
          channel.end('refused');
          reject(new Error(`refused: ${message.code}: ${message.message}`));
        } else {
          onOther(message);
        }
      },
      end: (reason) => {
        clearTimeout(timer);
        reject(new Error(`the connection ended (${reason}) before ${type}`));
      },
    });
  });
}

interface HeldRule {
  revision: number;
  bytesIn: number;
  bytesOut: number;
  connectionsTotal: number;
}

export class SimEdge {
  readonly credentials: EdgeCredentials;
  /** Sent in hello and with every stats report. */
  readonly bootId: string;
  readonly statsIntervalMs: number;
  /** What this edge "runs": rule id to revision and its made-up cumulative counters. */
  readonly rules = new Map<string, HeldRule>();
  pushes = 0;
  statsSent = 0;
  /** Why the session ended; null while it is up. */
  endedBecause: string | null = null;
  readonly #channel: Channel;
  readonly #timers: NodeJS.Timeout[] = [];
  #seq = 0;

  private constructor(
    channel: Channel,
    credentials: EdgeCredentials,
    bootId: string,
    statsIntervalMs: number,
  ) {
    this.#channel = channel;
    this.bootId = bootId;
    this.credentials = credentials;
    this.statsIntervalMs = statsIntervalMs;
    channel.on({
      message: (message) => this.#onMessage(message),
      end: (reason) => {
        this.endedBecause = reason;
        for (const timer of this.#timers) clearInterval(timer);
      },
    });
    this.#timers.push(
      setInterval(() => this.#sendStats(), statsIntervalMs),
      setInterval(() => channel.send({ type: 'ping' }), PING_INTERVAL_MS),
    );
  }

  /** Redeems an enrollment code on its own connection, as `sluice-edge enroll` does. */
  static async enroll(target: ControlTarget, code: string, hostname: string): Promise<EdgeCredentials> {
    const channel = new Channel(await connectPinned(target, 15_000));
    const reply = firstMessage(channel, 'enrolled', 15_000);
    channel.send({ type: 'enroll', version: PROTOCOL_VERSION, code, hostname });
    const enrolled = await reply;
    channel.end('enrolled');
    return { edgeId: enrolled.edgeId, name: enrolled.name, secret: enrolled.secret };
  }

  /** Opens a session: hello, welcome; the server's first (full) push is acked as any other. */
  static async connect(target: ControlTarget, credentials: EdgeCredentials): Promise<SimEdge> {
    const channel = new Channel(await connectPinned(target, 15_000));
    const early: ServerMessage[] = [];
    const welcome = firstMessage(channel, 'welcome', 15_000, (message) => early.push(message));
    const bootId = randomUUID();
    channel.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      edgeId: credentials.edgeId,
      secret: credentials.secret,
      bootId,
      capabilities: ['tcp', 'udp'],
      rules: [],
    });
    const { statsIntervalMs } = await welcome;
    const edge = new SimEdge(channel, credentials, bootId, statsIntervalMs);
    for (const message of early) edge.#onMessage(message);
    return edge;
  }

  get connected(): boolean {
    return !this.#channel.ended;
  }

  close(): void {
    this.#channel.end('closed by the bench');
  }

  #onMessage(message: ServerMessage): void {
    if (message.type === 'ping') {
      this.#channel.send({ type: 'pong' });
      return;
    }
    if (message.type !== 'push') return;
    this.pushes += 1;
    const results: RuleResult[] = [];
    if (message.full) {
      const kept = new Set(message.upsert.map((rule) => rule.id));
      for (const id of this.rules.keys()) {
        if (!kept.has(id)) {
          this.rules.delete(id);
          results.push({ ruleId: id, revision: 0, state: 'removed' });
        }
      }
    }
    for (const rule of message.upsert) {
      const held = this.rules.get(rule.id);
      if (held === undefined) {
        this.rules.set(rule.id, { revision: rule.revision, bytesIn: 0, bytesOut: 0, connectionsTotal: 0 });
      } else {
        held.revision = rule.revision;
      }
      results.push({ ruleId: rule.id, revision: rule.revision, state: 'active' });
    }
    for (const id of message.remove) {
      this.rules.delete(id);
      results.push({ ruleId: id, revision: 0, state: 'removed' });
    }
    this.#channel.send({ type: 'ack', pushId: message.pushId, results });
  }

  #sendStats(): void {
    const rules: RuleStats[] = [];
    for (const [ruleId, held] of this.rules) {
      // As if a little traffic flowed: cumulative, never going down within one boot id.
      held.connectionsTotal += 1;
      held.bytesIn += 1000 + Math.floor(Math.random() * 9000);
      held.bytesOut += 5000 + Math.floor(Math.random() * 45_000);
      rules.push({
        ruleId,
        bytesIn: held.bytesIn,
        bytesOut: held.bytesOut,
        connectionsTotal: held.connectionsTotal,
        activeConnections: 1,
        rejected: 0,
        connectErrors: 0,
      });
    }
    this.#channel.send({ type: 'stats', bootId: this.bootId, seq: this.#seq++, rules });
    this.statsSent += 1;
  }
}
