// The managed edge's one session to the server: connect pinned, hello, then answer pushes with
// acks, send cumulative stats (of the rules that moved) every statsIntervalMs, ping every 10 s and
// drop a session that has been silent for 30 s. Whatever ends a session (the server going away, a
// network error, a bad frame, silence), the client reconnects after a jittered exponential backoff
// (0.5 s .. 30 s), reset once a session was welcomed. A refused hello waits the longest backoff
// before the next try, except `edge_revoked`, which ends the client for good (the owner decides
// what follows), and `store_unavailable` (the server cannot reach its database), which waits the
// usual backoff. The data plane never waits on any of this: rules keep forwarding while the
// session is down.
//
// The server may be several replicas (one database), each with its own control address and the
// same certificate. The client tries the first; every failed connect and every ended session
// moves the next try to the next address (wrapping), so a dead replica costs one backoff step
// (0.5..1 s) before the edge is on another. A welcomed session stays where it is. A welcome that
// lists the replicas replaces the list for the tries after it.

import { EventEmitter } from 'node:events';
import {
  type ControlAddress,
  type OwnerUsage,
  PROTOCOL_VERSION,
  type RuleResult,
  type RuleStats,
  type ServerMessage,
  sameControlAddress,
} from '@sluice/protocol';
import { Backoff } from './backoff.ts';
import { type ChannelEnd, ControlChannel } from './control-channel.ts';
import { EDGE_ERRORS, type EdgeError } from './errors.ts';
import type { Logger } from './logger.ts';
import { connectPinned, serverLabel } from './pinned-connect.ts';

export type WelcomeMessage = Extract<ServerMessage, { type: 'welcome' }>;
export type PushMessage = Extract<ServerMessage, { type: 'push' }>;

/** What the client asks of the edge it serves. */
export interface ControlHandler {
  /** How many rules the edge runs now, for hello. */
  ruleCount(): number;
  /** Applies a push; resolves with one result per rule, sent back as one ack. */
  push(push: PushMessage): Promise<RuleResult[]>;
  /** Cumulative stats per rule, for the next `stats`. */
  stats(): RuleStats[];
  /** Cumulative bytes per owner, sent with them (owner-usage.ts); called right after stats(). */
  owners?(): OwnerUsage[];
}

export interface ControlClientOptions {
  /** The control addresses to try, in order (at least one); a welcome may replace them. */
  readonly servers: readonly ControlAddress[];
  /** The certificate's SHA-256, the same for every address (the replicas share it). */
  readonly pin: string;
  readonly edgeId: string;
  readonly secret: string;
  /** A fresh id per process: the server re-baselines cumulative stats when it changes. */
  readonly bootId: string;
  readonly capabilities: readonly string[];
  readonly handler: ControlHandler;
  readonly log: Logger;
  readonly backoff?: Backoff;
  readonly connectTimeoutMs?: number;
  readonly pingIntervalMs?: number;
  /** A session with nothing received for this long is dropped (also the wait for welcome). */
  readonly silenceTimeoutMs?: number;
}

export const PING_INTERVAL_MS = 10_000;
export const SILENCE_TIMEOUT_MS = 30_000;
export const CONNECT_TIMEOUT_MS = 10_000;

export interface ControlClientEvents {
  /** A session was welcomed. */
  connected: [welcome: WelcomeMessage];
  /** A session (welcomed or not) ended, or a connect failed; the next try is in `retryInMs`. */
  disconnected: [
    info: {
      reason: string;
      detail: string;
      retryInMs: number | null;
      welcomed: boolean;
      /** `host:port` of the address this session or try was on. */
      server: string;
    },
  ];
  /** The server refused hello. */
  refused: [info: { code: string; message: string }];
  /** The server refused hello with edge_revoked: the client has stopped. */
  revoked: [error: EdgeError];
  /** A push was applied; `sent`: its ack went out (false when its session had ended meanwhile). */
  acked: [info: { pushId: number; results: RuleResult[]; sent: boolean }];
  stats: [info: { seq: number; rules: RuleStats[] }];
}

export class ControlClient extends EventEmitter<ControlClientEvents> {
  private readonly options: ControlClientOptions;
  private readonly backoff: Backoff;
  private servers: readonly ControlAddress[];
  /** Index in `servers` of the address tried last (or the one connected to). */
  private index = 0;
  private channel: ControlChannel | null = null;
  private welcomed = false;
  private refusedNow = false;
  private running = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private sessionTimers: NodeJS.Timeout[] = [];
  private silenceTimer: NodeJS.Timeout | null = null;
  private seq = 0;
  /**
   * Per rule id: the stats this session's last report held for it, and whether they had moved
   * since the report before. A new session starts empty, so its first report names every rule.
   */
  private reported = new Map<string, { stats: RuleStats; moved: boolean }>();
  private pushes: Promise<unknown> = Promise.resolve();

  constructor(options: ControlClientOptions) {
    super();
    this.options = options;
    this.backoff = options.backoff ?? new Backoff();
    if (options.servers.length === 0)
      throw new RangeError('a control client needs at least one server address');
    this.servers = [...options.servers];
  }

  /** The address tried last, or the one connected to now. */
  get address(): ControlAddress {
    // Never out of range: the list is not empty and the index moves modulo its length.
    return this.servers[this.index]!;
  }

  /** The addresses tried in turn, in order. */
  get addresses(): readonly ControlAddress[] {
    return this.servers;
  }

  /** `host:port` of the address tried last, for logs and errors. */
  get server(): string {
    return serverLabel(this.address);
  }

  /** Whether a session is up and welcomed now. */
  get connected(): boolean {
    return this.welcomed && this.channel !== null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  /** Ends the session (if any) and stops reconnecting. */
  stop(): void {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.channel?.close('stopping', 'the edge is stopping');
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (!this.running) return;
    let socket: Awaited<ReturnType<typeof connectPinned>>;
    try {
      socket = await connectPinned(
        { ...this.address, pin: this.options.pin },
        this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      );
    } catch (err) {
      const error = EDGE_ERRORS.is(err)
        ? err
        : EDGE_ERRORS.error('server_unreachable', { server: this.server, reason: String(err) });
      this.retry(
        { reason: error.code, detail: error.message },
        false,
        error.code === 'pin_mismatch' ? 'error' : 'warn',
      );
      return;
    }
    if (!this.running) {
      socket.destroy();
      return;
    }
    this.welcomed = false;
    this.refusedNow = false;
    const channel = new ControlChannel(socket, {
      message: (message) => this.onMessage(channel, message),
      end: (end) => this.onEnd(channel, end),
    });
    this.channel = channel;
    this.armSilence(channel);
    channel.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      edgeId: this.options.edgeId,
      secret: this.options.secret,
      bootId: this.options.bootId,
      capabilities: [...this.options.capabilities],
      ruleCount: this.options.handler.ruleCount(),
    });
  }

  private onMessage(channel: ControlChannel, message: ServerMessage): void {
    if (channel !== this.channel) return;
    this.armSilence(channel);
    switch (message.type) {
      case 'welcome':
        this.onWelcome(channel, message);
        return;
      case 'refused':
        this.onRefused(channel, message.code, message.message);
        return;
      case 'push':
        if (this.welcomed) this.onPush(channel, message);
        else channel.close('protocol_error', 'push before welcome');
        return;
      case 'ping':
        channel.send({ type: 'pong' });
        return;
      case 'pong':
        return;
      case 'enrolled':
        channel.close('protocol_error', 'enrolled on a session');
        return;
    }
  }

  private onWelcome(channel: ControlChannel, welcome: WelcomeMessage): void {
    if (this.welcomed) {
      channel.close('protocol_error', 'a second welcome');
      return;
    }
    this.welcomed = true;
    this.backoff.reset();
    if (welcome.servers) this.useServers(welcome.servers);
    this.options.log.info(
      {
        server: this.server,
        edge_id: welcome.edgeId,
        name: welcome.name,
        stats_interval_ms: welcome.statsIntervalMs,
        servers: this.servers.map(serverLabel),
      },
      'control connected',
    );
    this.reported = new Map();
    const statsEvery = welcome.statsIntervalMs;
    this.sessionTimers.push(
      setInterval(() => this.sendStats(channel), statsEvery),
      setInterval(() => channel.send({ type: 'ping' }), this.options.pingIntervalMs ?? PING_INTERVAL_MS),
    );
    this.emit('connected', welcome);
  }

  /**
   * The replicas the server has now. The session stays on its address; the next try goes to the
   * address after it in the new list, or to the new list's first when it is not in it.
   */
  private useServers(welcomed: readonly ControlAddress[]): void {
    // The replicas alive now come first; the bundle's addresses stay after them, so a replica
    // that was down when this welcome was made, or came back at its old address, is still tried.
    const servers = [
      ...welcomed,
      ...this.options.servers.filter(
        (address) => !welcomed.some((other) => sameControlAddress(address, other)),
      ),
    ];
    const here = servers.findIndex((address) => sameControlAddress(address, this.address));
    this.servers = servers;
    // One before the first, so that the advance after this session lands on the first.
    this.index = here >= 0 ? here : servers.length - 1;
  }

  private onRefused(channel: ControlChannel, code: string, message: string): void {
    // Normally the answer to hello; a server may also end a live session this way (a revoke).
    // store_unavailable is the server's own trouble, not the edge's: it retries on the usual
    // backoff (the next replica first), not the longest.
    this.refusedNow = code !== 'store_unavailable';
    this.emit('refused', { code, message });
    if (code === 'edge_revoked') {
      const error = EDGE_ERRORS.error('edge_revoked', { message });
      this.options.log.error(
        { server: this.server, reason: code, detail: message, retry_in_ms: null },
        'control refused',
      );
      this.running = false;
      channel.close(code, message);
      this.emit('revoked', error);
      return;
    }
    channel.close(code, message);
  }

  private onPush(channel: ControlChannel, push: PushMessage): void {
    // Pushes apply one after another; an ack goes to the session its push came on, or nowhere
    // (the server pushes everything again on the next session).
    this.pushes = this.pushes.then(async () => {
      const results = await this.options.handler.push(push);
      const sent = channel.open;
      channel.send({ type: 'ack', pushId: push.pushId, results });
      if (!sent)
        this.options.log.info({ push_id: push.pushId }, 'push applied after its session ended; ack dropped');
      this.emit('acked', { pushId: push.pushId, results, sent });
    });
    this.pushes = this.pushes.catch((err: unknown) => {
      this.options.log.error({ err: String(err), push_id: push.pushId }, 'push could not be applied');
      channel.close('internal', String(err));
    });
  }

  private sendStats(channel: ControlChannel): void {
    // Only the rules whose stats moved, and once more those that moved last time (there the
    // rate falls to 0): 10,000 idle rules cost the server nothing every few seconds. The server
    // takes a left-out rule's rate from this session's previous report (fold-stats.ts).
    const rules: RuleStats[] = [];
    const reported = new Map<string, { stats: RuleStats; moved: boolean }>();
    for (const stats of this.options.handler.stats()) {
      const last = this.reported.get(stats.ruleId);
      const moved = last === undefined || !sameStats(last.stats, stats);
      if (moved || last.moved) rules.push(stats);
      reported.set(stats.ruleId, { stats, moved });
    }
    this.reported = reported;
    const owners = this.options.handler.owners?.();
    const seq = this.seq++;
    channel.send({ type: 'stats', bootId: this.options.bootId, seq, rules, ...(owners ? { owners } : {}) });
    this.emit('stats', { seq, rules });
  }

  private armSilence(channel: ControlChannel): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    const ms = this.options.silenceTimeoutMs ?? SILENCE_TIMEOUT_MS;
    this.silenceTimer = setTimeout(
      () => channel.close('silence', `nothing from the server for ${ms} ms`),
      ms,
    );
  }

  private onEnd(channel: ControlChannel, end: ChannelEnd): void {
    if (channel !== this.channel) return;
    this.channel = null;
    for (const timer of this.sessionTimers) clearInterval(timer);
    this.sessionTimers = [];
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
    const welcomed = this.welcomed;
    this.welcomed = false;
    if (this.refusedNow && !this.running) {
      this.emit('disconnected', {
        reason: end.reason,
        detail: end.detail,
        retryInMs: null,
        welcomed,
        server: this.server,
      });
      return;
    }
    const level = end.reason === 'stopping' ? 'info' : this.refusedNow ? 'error' : 'warn';
    this.retry(end, welcomed, level, this.refusedNow);
  }

  private retry(
    end: { reason: string; detail: string },
    welcomed: boolean,
    level: 'info' | 'warn' | 'error',
    refused = false,
  ): void {
    // After a refusal the server will most likely refuse again: wait the longest.
    const retryInMs = this.running ? (refused ? this.backoff.atMax() : this.backoff.next()) : null;
    // Whatever ended this try, the replica behind the address may be gone: the next try goes to
    // the next address. A single address is tried again, as before there were replicas.
    const next = retryInMs === null ? null : (this.index + 1) % this.servers.length;
    const msg = refused ? 'control refused' : welcomed ? 'control disconnected' : 'control connect failed';
    const server = this.server;
    this.options.log[level](
      {
        server,
        reason: end.reason,
        detail: end.detail,
        retry_in_ms: retryInMs,
        ...(next !== null && this.servers.length > 1
          ? { next_server: serverLabel(this.servers[next]!) }
          : {}),
      },
      msg,
    );
    this.emit('disconnected', { reason: end.reason, detail: end.detail, retryInMs, welcomed, server });
    if (retryInMs === null || next === null) return;
    this.index = next;
    this.retryTimer = setTimeout(() => void this.connect(), retryInMs);
  }
}

/** Whether two readings of a rule's stats are the same: every count and the level of connections. */
function sameStats(a: RuleStats, b: RuleStats): boolean {
  return (
    a === b ||
    (a.bytesIn === b.bytesIn &&
      a.bytesOut === b.bytesOut &&
      a.connectionsTotal === b.connectionsTotal &&
      a.activeConnections === b.activeConnections &&
      a.rejected === b.rejected &&
      a.connectErrors === b.connectErrors)
  );
}
