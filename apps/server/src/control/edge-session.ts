// One TLS connection from an edge: framing, validation of every frame, keepalive, and pushes
// with their acks. What the messages mean (enrollment, authentication, the store) is the
// ControlServer's; a session only knows its own connection, so a bad frame or a silent peer
// ends this session and no other.

import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { AckMessage, EnrollMessage, HelloMessage, StatsMessage } from '@sluice/api';
import {
  type EdgeMessage,
  edgeMessageSchema,
  encodeFrame,
  FRAME_ERRORS,
  FrameReader,
  MAX_FRAME_BYTES,
  PRE_AUTH_MAX_FRAME_BYTES,
  type PushedRule,
  type QuotaBudget,
  type RuleResult,
  type ServerMessage,
} from '@sluice/protocol';
import type { Logger } from 'pino';
import { peerKey } from './pending-connections.ts';

export interface PushRequest {
  readonly full: boolean;
  readonly upsert: readonly PushedRule[];
  readonly remove: readonly string[];
  /** Every owner's caps on the edge (the edge replaces its set); absent: unchanged. */
  readonly owners?: Readonly<Record<string, Record<string, unknown>>>;
  /** Every owner's quota budget on the edge (the edge replaces its set); absent: unchanged. */
  readonly quotas?: Readonly<Record<string, QuotaBudget>>;
}

export type PushOutcome =
  | { readonly kind: 'acked'; readonly pushId: number; readonly results: readonly RuleResult[] }
  | { readonly kind: 'timeout'; readonly pushId: number }
  | { readonly kind: 'closed'; readonly pushId: number };

/**
 * What the messages mean. The handlers of frames may be asynchronous (they use the store): a
 * session handles its frames one at a time, in order, each once the one before has finished.
 */
export interface SessionHandlers {
  /** The first frame: an enrollment or a hello. The handler answers and, for hello, calls accept(). */
  onFirst(session: EdgeSession, message: EnrollMessage | HelloMessage): Promise<void>;
  /** Every ack, in time or late, with the push it answers when the session still knows it. */
  /** `ackSeconds`: from the push sent to this ack; null for an ack of no push of this session. */
  onAck(
    session: EdgeSession,
    ack: AckMessage,
    push: PushRequest | undefined,
    ackSeconds: number | null,
  ): Promise<void>;
  onStats(session: EdgeSession, stats: StatsMessage): Promise<void>;
  onClose(session: EdgeSession, reason: string): void;
}

export interface SessionTimings {
  /** How long a new connection may take to send its first frame. */
  readonly firstFrameMs: number;
  /** Ping this often. */
  readonly keepaliveMs: number;
  /** Hearing nothing for this long ends the session. */
  readonly silenceMs: number;
}

export const DEFAULT_TIMINGS: SessionTimings = {
  firstFrameMs: 10_000,
  keepaliveMs: 10_000,
  silenceMs: 30_000,
};

interface Waiter {
  readonly resolve: (outcome: PushOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

// new: nothing heard yet; greeting: a hello is being answered; enrolling: an enroll is.
type Phase = 'new' | 'greeting' | 'enrolling' | 'established' | 'closed';

export class EdgeSession {
  /** Names this session among all of the edge's, on every replica (the store's session record). */
  readonly id = randomUUID();
  readonly socket: TLSSocket;
  /** `address:port` of the peer, for logs and the audit trail. */
  readonly remote: string;
  private phase: Phase = 'new';
  private _edgeId: string | null = null;
  private _bootId: string | null = null;
  /** Frames are capped at a few KiB until the peer has authenticated (accept). */
  private readonly reader = new FrameReader(PRE_AUTH_MAX_FRAME_BYTES);
  /** The handling of the frames received so far; the next frame is handled after it. */
  private handling: Promise<void> = Promise.resolve();
  private readonly handlers: SessionHandlers;
  private readonly logger: Logger;
  private readonly timings: SessionTimings;
  private nextPushId = 1;
  /** Pushes not yet acked, with when each was sent (performance.now()). */
  private readonly sent = new Map<number, { readonly request: PushRequest; readonly at: number }>();
  private readonly waiters = new Map<number, Waiter>();
  private lastHeard = Date.now();
  /** The store's time when this session's last stats report came (fold-stats.ts); null: none yet. */
  statsArrivedAt: number | null = null;
  private readonly firstFrameTimer: NodeJS.Timeout;
  private keepalive: NodeJS.Timeout | null = null;

  constructor(
    socket: TLSSocket,
    handlers: SessionHandlers,
    logger: Logger,
    timings: SessionTimings = DEFAULT_TIMINGS,
  ) {
    this.socket = socket;
    this.handlers = handlers;
    this.timings = timings;
    this.remote = peerKey(socket);
    this.logger = logger.child({ remote: this.remote });
    this.firstFrameTimer = setTimeout(
      () => this.close('no_hello', 'sent nothing within the first-frame timeout'),
      timings.firstFrameMs,
    );
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.logger.debug({ err: error.message }, 'control socket error'));
    socket.on('close', () => this.close('disconnected'));
  }

  get edgeId(): string | null {
    return this._edgeId;
  }

  get bootId(): string | null {
    return this._bootId;
  }

  get established(): boolean {
    return this.phase === 'established';
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** The handler accepted a hello: the session now carries acks, stats and pings. */
  accept(edgeId: string, bootId: string): void {
    this._edgeId = edgeId;
    this._bootId = bootId;
    this.phase = 'established';
    this.reader.limit = MAX_FRAME_BYTES;
    this.keepalive = setInterval(() => this.tick(), this.timings.keepaliveMs);
  }

  send(message: ServerMessage): void {
    if (this.phase === 'closed') return;
    this.socket.write(encodeFrame(message));
  }

  /** Sends a last message and ends the connection once it is written. */
  finish(message: ServerMessage): void {
    if (this.phase === 'closed') return;
    this.socket.end(encodeFrame(message));
    // The peer closes once it has read the answer; one that does not is cut off.
    setTimeout(() => this.socket.destroy(), 5000).unref();
    this.close('finished', undefined, false);
  }

  /**
   * Sends a push and waits for its ack, at most `timeoutMs`. Resolves, never rejects: the caller
   * decides what a timeout or a lost session means for the rule.
   */
  push(request: PushRequest, timeoutMs: number): Promise<PushOutcome> {
    const pushId = this.nextPushId++;
    if (this.phase !== 'established') return Promise.resolve({ kind: 'closed', pushId });
    this.sent.set(pushId, { request, at: performance.now() });
    this.send({
      type: 'push',
      pushId,
      full: request.full,
      upsert: [...request.upsert],
      remove: [...request.remove],
      ...(request.owners === undefined ? {} : { owners: { ...request.owners } }),
      ...(request.quotas === undefined ? {} : { quotas: { ...request.quotas } }),
    });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(pushId);
        resolve({ kind: 'timeout', pushId });
      }, timeoutMs);
      this.waiters.set(pushId, { resolve, timer });
    });
  }

  /** Ends the session; pending pushes resolve as closed. */
  close(reason: string, detail?: string, destroy = true): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.firstFrameTimer);
    if (this.keepalive !== null) clearInterval(this.keepalive);
    for (const [pushId, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve({ kind: 'closed', pushId });
    }
    this.waiters.clear();
    this.sent.clear();
    if (destroy) this.socket.destroy();
    const level = reason === 'protocol_error' || reason === 'silent' ? 'warn' : 'info';
    if (this._edgeId !== null || level === 'warn') {
      this.logger[level]({ edgeId: this._edgeId, reason, detail }, 'control session closed');
    }
    this.handlers.onClose(this, reason);
  }

  private tick(): void {
    if (Date.now() - this.lastHeard > this.timings.silenceMs) {
      this.close('silent', `heard nothing for ${this.timings.silenceMs} ms`);
      return;
    }
    this.send({ type: 'ping' });
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.lastHeard = Date.now();
    let frames: unknown[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      if (!FRAME_ERRORS.is(error)) throw error;
      // After the frames before it, as when they were handled at once.
      const { message } = error;
      this.handling = this.handling.then(() => this.close('protocol_error', message));
      return;
    }
    this.handling = this.handling.then(() => this.handleFrames(frames));
  }

  private async handleFrames(frames: unknown[]): Promise<void> {
    for (const frame of frames) {
      if (this.closed) return;
      const parsed = edgeMessageSchema.safeParse(frame);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = issue?.path.join('.') ?? '';
        this.close(
          'protocol_error',
          `invalid frame: ${path === '' ? '' : `${path}: `}${issue?.message ?? 'does not validate'}`,
        );
        return;
      }
      try {
        await this.onMessage(parsed.data);
      } catch (error) {
        // A failing handler (the store) must not leave the frames after it unhandled.
        this.logger.error({ err: error, edgeId: this._edgeId }, 'control message handling failed');
        this.close('internal_error', (error as Error).message);
        return;
      }
    }
  }

  private async onMessage(message: EdgeMessage): Promise<void> {
    if (this.phase === 'new') {
      if (message.type !== 'enroll' && message.type !== 'hello') {
        this.close('protocol_error', `first frame is "${message.type}", not "enroll" or "hello"`);
        return;
      }
      clearTimeout(this.firstFrameTimer);
      this.phase = message.type === 'enroll' ? 'enrolling' : 'greeting';
      await this.handlers.onFirst(this, message);
      return;
    }
    if (this.phase !== 'established') {
      this.close('protocol_error', `"${message.type}" before the session was established`);
      return;
    }
    switch (message.type) {
      case 'ack': {
        const sent = this.sent.get(message.pushId);
        this.sent.delete(message.pushId);
        const ackSeconds = sent === undefined ? null : (performance.now() - sent.at) / 1000;
        // The store learns the results first, so whoever waits reads the new state.
        await this.handlers.onAck(this, message, sent?.request, ackSeconds);
        const waiter = this.waiters.get(message.pushId);
        if (waiter !== undefined) {
          this.waiters.delete(message.pushId);
          clearTimeout(waiter.timer);
          waiter.resolve({ kind: 'acked', pushId: message.pushId, results: message.results });
        }
        return;
      }
      case 'stats':
        await this.handlers.onStats(this, message);
        return;
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'pong':
        return;
      case 'enroll':
      case 'hello':
        this.close('protocol_error', `"${message.type}" on an established session`);
        return;
    }
  }
}
