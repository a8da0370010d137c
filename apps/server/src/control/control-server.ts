// The control listener: TLS with the server's self-signed certificate (edges pin it), one
// EdgeSession per connection. It answers enrollments, authenticates hellos, keeps the one live
// session of each edge, pushes rules (the full set on connect, changes after), records what
// acks say about each rule, and folds stats reports into per-rule totals.

import type { AddressInfo, Socket } from 'node:net';
import { setImmediate } from 'node:timers/promises';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AckMessage, EnrollMessage, HelloMessage, StatsMessage } from '@sluice/api';
import { SluiceError } from '@sluice/errors';
import { PROTOCOL_VERSION, type PushedRule } from '@sluice/protocol';
import type { Logger } from 'pino';
import { serverError } from '../errors.ts';
import { CONTROL_POLICY, FailureThrottle } from '../failure-throttle.ts';
import type { AuthFailureReason } from '../metrics.ts';
import type { ReplicaMesh } from '../replicas/replica-mesh.ts';
import type { RoutedOp, RoutedOutcome } from '../replicas/replica-messages.ts';
import type { HostPort } from '../server-config.ts';
import type { RuleRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import {
  DEFAULT_TIMINGS,
  EdgeSession,
  type PushOutcome,
  type PushRequest,
  type SessionHandlers,
  type SessionTimings,
} from './edge-session.ts';
import {
  DEFAULT_PENDING_LIMITS,
  PendingConnections,
  type PendingLimits,
  type PendingRefusalReason,
} from './pending-connections.ts';
import type { StatsHub } from './stats-hub.ts';

/** Refusals that a guesser earns: they count towards the address's lockout. */
const GUESSES: ReadonlySet<string> = new Set<AuthFailureReason>([
  'secret_invalid',
  'edge_unknown',
  'code_unknown',
  'code_used',
  'code_expired',
  'code_superseded',
]);

export interface ControlServerOptions {
  readonly store: Store;
  readonly key: string;
  readonly cert: string;
  readonly logger: Logger;
  readonly statsHub: StatsHub;
  readonly ackTimeoutMs: number;
  readonly statsIntervalMs: number;
  readonly timings?: SessionTimings;
  readonly onAuthFailure?: (reason: AuthFailureReason) => void;
  /** An edge acked a push: a full one (each session's first) or a change, this long after it was sent. */
  readonly onPushAcked?: (kind: 'full' | 'change', seconds: number) => void;
  /** The other replicas on the same store (PostgreSQL); absent: this server is the only one. */
  readonly mesh?: ReplicaMesh | null;
  /** Deadline and caps of unauthenticated connections; absent: DEFAULT_PENDING_LIMITS. */
  readonly pendingLimits?: PendingLimits;
  /** A connection cut before it authenticated: over a cap, or silent past its deadline. */
  readonly onConnectionRefused?: (reason: PendingRefusalReason) => void;
  /** Failed hellos and enrollments per client address; absent: CONTROL_POLICY on Date.now. */
  readonly failures?: FailureThrottle;
}

export type ControlPushOutcome = PushOutcome | { readonly kind: 'offline' };

/** A stored rule as the edge receives it. */
export function toPushedRule(rule: RuleRecord): PushedRule {
  return { id: rule.id, revision: rule.revision, owner: rule.owner, rule: rule.body };
}

/**
 * Rules of one stats report folded per transaction (onStats). SQLite runs a transaction without
 * a break, about 40 µs a rule here: 100 keep each near 4 ms, as long as a push waits behind it.
 */
const STATS_SLICE = 100;

/** How often quotas are checked for a period that ended. */
const QUOTA_PERIOD_CHECK_MS = 1_000;

export class ControlServer {
  readonly ackTimeoutMs: number;
  private readonly options: ControlServerOptions;
  private readonly server: Server;
  private readonly logger: Logger;
  /** The established session of each edge: at most one, the newest. */
  private readonly sessions = new Map<string, EdgeSession>();
  private readonly open = new Set<EdgeSession>();
  /** Every TCP connection, mid-handshake or answered and closing too: close() ends them all. */
  private readonly sockets = new Set<Socket>();
  private readonly pending: PendingConnections;
  private readonly failures: FailureThrottle;
  private readonly handlers: SessionHandlers;
  private quotaTimer: NodeJS.Timeout | null = null;
  private readonly mesh: ReplicaMesh | null;
  /** Where edges reach this server; set once the listener is bound (joinReplicas). */
  private advertise: HostPort | null = null;

  constructor(options: ControlServerOptions) {
    this.options = options;
    this.mesh = options.mesh ?? null;
    this.ackTimeoutMs = options.ackTimeoutMs;
    this.logger = options.logger.child({ area: 'control' });
    this.failures = options.failures ?? new FailureThrottle(CONTROL_POLICY);
    this.handlers = {
      onFirst: (session, message) =>
        this.politely(session, () =>
          this.throttled(session, () =>
            message.type === 'enroll' ? this.onEnroll(session, message) : this.onHello(session, message),
          ),
        ),
      onAck: (session, ack, push, ackSeconds) => {
        if (push !== undefined && ackSeconds !== null) {
          this.options.onPushAcked?.(push.full ? 'full' : 'change', ackSeconds);
        }
        return this.onAck(session, ack, push);
      },
      onStats: (session, stats) =>
        this.onStats(session, stats).catch((error: unknown) => {
          if (!isStoreUnavailable(error)) throw error;
          // The reports are cumulative: the first one after the store is back folds this one in.
          this.logger.warn(
            { edgeId: session.edgeId, err: (error as Error).message },
            'stats report not folded',
          );
        }),
      onClose: (session, reason) => this.onClose(session, reason),
    };
    const limits = options.pendingLimits ?? DEFAULT_PENDING_LIMITS;
    this.pending = new PendingConnections(limits, (reason, source) => {
      this.logger.debug({ reason, source }, 'control connection cut before authentication');
      options.onConnectionRefused?.(reason);
    });
    this.server = createServer({
      key: options.key,
      cert: options.cert,
      minVersion: 'TLSv1.2',
      // A backstop only: the pending deadline (which counts the cut) fires first.
      handshakeTimeout: limits.deadlineMs + 1000,
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.pending.admit(socket);
    });
    this.server.on('secureConnection', (socket: TLSSocket) => {
      const session = new EdgeSession(socket, this.handlers, this.logger, options.timings ?? DEFAULT_TIMINGS);
      this.open.add(session);
    });
    // An edge that finds the wrong pin hangs up mid-handshake; that is its business to report.
    // Node reports a handshake timeout here but leaves the socket open: end it.
    this.server.on('tlsClientError', (error, socket) => {
      this.logger.debug({ err: error.message }, 'TLS handshake failed');
      socket.destroy();
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          serverError(
            'listen_failed',
            `cannot listen for edges on ${host}:${port}: ${error.code ?? error.message}`,
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        this.quotaTimer = setInterval(() => void this.startQuotaPeriods(), QUOTA_PERIOD_CHECK_MS);
        this.quotaTimer.unref();
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * A quota whose period ended starts the next one, with nothing used: the edge gets its new
   * budget now, so a user cut off at the end of a month is served again without waiting.
   */
  private async startQuotaPeriods(): Promise<void> {
    try {
      const rolled = await this.options.store.quotas.rollOver();
      for (const quota of rolled) {
        this.logger.info(
          {
            user: quota.userName,
            edge: quota.edgeName,
            periodStart: new Date(quota.periodStart).toISOString(),
          },
          'quota period began',
        );
      }
      for (const edgeId of new Set(rolled.map((quota) => quota.edgeId))) await this.pushQuotas(edgeId);
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'quota periods not checked');
    }
  }

  async close(): Promise<void> {
    if (this.quotaTimer !== null) clearInterval(this.quotaTimer);
    await this.mesh?.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of [...this.open]) session.close('server_stopping');
    for (const socket of this.sockets) socket.destroy();
    if (this.server.listening) await closed;
  }

  /** Whether the edge has a session here or on another live replica. */
  isConnected(edgeId: string): boolean {
    return this.sessions.has(edgeId) || this.mesh?.holder(edgeId) != null;
  }

  get connectedCount(): number {
    return this.sessions.size;
  }

  /** Ends an edge's session (revoked, deleted); answers whether it had one. */
  disconnect(edgeId: string, reason: string): boolean {
    const session = this.sessions.get(edgeId);
    session?.close(reason);
    const holder = this.mesh?.holder(edgeId) ?? null;
    if (holder !== null) void this.mesh!.call(holder, { kind: 'disconnect', edgeId, reason });
    return session !== undefined || holder !== null;
  }

  /**
   * Pushes to an edge and waits for the ack within the ack budget. An edge held by another
   * replica gets the push from that replica, which reads the named rules from the store.
   */
  push(edgeId: string, request: Omit<PushRequest, 'full'>): Promise<ControlPushOutcome> {
    const session = this.sessions.get(edgeId);
    if (session !== undefined) return session.push({ full: false, ...request }, this.ackTimeoutMs);
    return this.route(edgeId, {
      kind: 'push',
      edgeId,
      upsert: request.upsert.map((rule) => rule.id),
      remove: [...request.remove],
      owners: request.owners !== undefined,
      quotas: request.quotas !== undefined,
    });
  }

  private route(edgeId: string, op: RoutedOp): Promise<ControlPushOutcome> {
    const holder = this.mesh?.holder(edgeId) ?? null;
    if (holder === null) return Promise.resolve({ kind: 'offline' });
    return this.mesh!.call(holder, op);
  }

  /** Another replica's push or disconnect for an edge whose session is here. */
  async onRoutedCall(op: RoutedOp): Promise<RoutedOutcome> {
    const session = this.sessions.get(op.edgeId);
    if (session === undefined) return { kind: 'offline' };
    if (op.kind === 'disconnect') {
      session.close(op.reason);
      return { kind: 'acked', pushId: 0, results: [] };
    }
    const { store } = this.options;
    const upsert = [];
    for (const id of op.upsert) {
      const rule = await store.rules.get(id);
      if (rule !== null && rule.edgeId === op.edgeId && rule.state !== 'removed')
        upsert.push(toPushedRule(rule));
    }
    const owners = op.owners ? await store.ownerLimits.ofEdge(op.edgeId) : undefined;
    const quotas = op.quotas ? await store.quotas.budgets(op.edgeId, session.bootId) : undefined;
    const outcome = await session.push(
      {
        full: false,
        upsert,
        remove: op.remove,
        ...(owners === undefined ? {} : { owners }),
        ...(quotas === undefined ? {} : { quotas }),
      },
      this.ackTimeoutMs,
    );
    return outcome.kind === 'acked' ? { ...outcome, results: [...outcome.results] } : outcome;
  }

  /** Joins the other replicas: from now on they route to this one, and it to them. */
  joinReplicas(advertise: HostPort): Promise<void> {
    this.advertise = advertise;
    if (this.mesh === null) return Promise.resolve();
    return this.mesh.start(
      {
        onCall: (op) => this.onRoutedCall(op),
        onSuperseded: (edgeId, sessionId) => this.onSuperseded(edgeId, sessionId),
        onStats: (records) => {
          for (const record of records) this.options.statsHub.publish(record);
        },
      },
      advertise,
    );
  }

  /** Where edges reach the control plane: every live replica, this one first. */
  controlAddresses(): HostPort[] {
    if (this.mesh !== null) return this.mesh.controlAddresses();
    return this.advertise === null ? [] : [this.advertise];
  }

  /** Another replica took the edge's session: this one, if still that session, ends. */
  onSuperseded(edgeId: string, sessionId: string): void {
    const session = this.sessions.get(edgeId);
    if (session?.id === sessionId) session.close('replaced', 'the edge connected to another replica');
  }

  /**
   * Sends an edge its owners' quota budgets as stored now (after a quota changed or a period
   * began). An edge offline now gets them with its next full push.
   */
  async pushQuotas(edgeId: string): Promise<ControlPushOutcome> {
    const session = this.sessions.get(edgeId);
    if (session === undefined)
      return this.route(edgeId, {
        kind: 'push',
        edgeId,
        upsert: [],
        remove: [],
        owners: false,
        quotas: true,
      });
    const quotas = await this.options.store.quotas.budgets(edgeId, session.bootId);
    return session.push({ full: false, upsert: [], remove: [], quotas }, this.ackTimeoutMs);
  }

  /** Sends an edge every rule it should run; what it runs beyond them it removes. */
  async pushFull(edgeId: string): Promise<void> {
    const session = this.sessions.get(edgeId);
    if (session === undefined) return;
    const rules = (await this.options.store.rules.ofEdge(edgeId)).filter((rule) => rule.state !== 'removed');
    // The owner caps and quotas set through the API come back with every full push.
    const owners = await this.options.store.ownerLimits.ofEdge(edgeId);
    const quotas = await this.options.store.quotas.budgets(edgeId, session.bootId);
    session
      .push({ full: true, upsert: rules.map(toPushedRule), remove: [], owners, quotas }, this.ackTimeoutMs)
      .then((outcome) => {
        if (outcome.kind === 'timeout') {
          this.logger.warn(
            { edgeId, pushId: outcome.pushId, rules: rules.length },
            'full push not acked in time',
          );
        }
      });
  }

  /**
   * Runs a first-frame handler; when the store cannot be reached the edge is told so and tries
   * again later, and its rules keep running meanwhile.
   */
  private async politely(session: EdgeSession, handle: () => Promise<void>): Promise<void> {
    try {
      await handle();
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      this.logger.warn(
        { remote: session.remote, err: (error as Error).message },
        'edge refused: the store is unavailable',
      );
      if (session.established) session.close('store_unavailable', (error as Error).message);
      else session.finish({ type: 'refused', code: 'store_unavailable', message: (error as Error).message });
    }
  }

  /**
   * Runs a first-frame handler unless the client's address is locked out for failed attempts.
   * A locked-out attempt is answered `rate_limited` and counted, but neither audited nor logged
   * one by one: the lockout's start is.
   */
  private async throttled(session: EdgeSession, handle: () => Promise<void>): Promise<void> {
    const waitMs = this.failures.retryAfterMs(clientAddress(session));
    if (waitMs === 0) {
      await handle();
      return;
    }
    this.options.onAuthFailure?.('rate_limited');
    session.finish({
      type: 'refused',
      code: 'rate_limited',
      message: `too many failed attempts from this address; try again in ${Math.ceil(waitMs / 1000)} s`,
    });
  }

  private async refuse(
    session: EdgeSession,
    code: string,
    message: string,
    audit: { action: string; user: string | null; target: string | null },
    answered: string = code,
  ): Promise<void> {
    if (GUESSES.has(code)) {
      const address = clientAddress(session);
      this.failures.failed(address);
      const lockedMs = this.failures.retryAfterMs(address);
      if (lockedMs > 0) {
        this.logger.warn(
          { address, lockedForMs: lockedMs },
          'control: too many failed hellos or enrollments from this address; refusing it for a while',
        );
      }
    }
    await this.options.store.audit.add({ ...audit, outcome: code, from: session.remote });
    this.logger.info(
      { remote: session.remote, code, target: audit.target },
      `${audit.action} refused: ${message}`,
    );
    session.finish({ type: 'refused', code: answered, message });
  }

  private async onEnroll(session: EdgeSession, message: EnrollMessage): Promise<void> {
    const audit = { action: 'edge.enroll', user: null, target: null };
    if (message.version !== PROTOCOL_VERSION) {
      await this.refuse(session, 'version_unsupported', versionMessage(message.version), audit);
      return;
    }
    const redemption = await this.options.store.edges.redeemEnrollment(message.code);
    if (!redemption.ok) {
      this.options.onAuthFailure?.(redemption.code);
      await this.refuse(session, redemption.code, redemption.message, audit);
      return;
    }
    const { edge, secret } = redemption;
    // A new secret replaces the old: a session still using the old one ends.
    this.disconnect(edge.id, 'enrolled_again');
    await this.options.store.audit.add({
      ...audit,
      user: edge.name,
      target: edge.id,
      outcome: 'ok',
      from: session.remote,
    });
    this.logger.info(
      { edgeId: edge.id, name: edge.name, remote: session.remote, hostname: message.hostname },
      'edge enrolled',
    );
    session.finish({ type: 'enrolled', edgeId: edge.id, name: edge.name, secret });
  }

  private async onHello(session: EdgeSession, message: HelloMessage): Promise<void> {
    const { store } = this.options;
    const audit = { action: 'edge.hello', user: null, target: message.edgeId };
    const fail = (reason: AuthFailureReason, text: string, answered: string = reason): Promise<void> => {
      this.options.onAuthFailure?.(reason);
      return this.refuse(session, reason, text, audit, answered);
    };
    // An unknown edge and a wrong secret get the same answer, so a stranger learns nothing of
    // which edge ids exist; the metric, the log and the audit trail tell them apart.
    const notKnown = (reason: 'edge_unknown' | 'secret_invalid'): Promise<void> =>
      fail(
        reason,
        `edge ${message.edgeId} with this secret is not known here; enroll the edge again`,
        'secret_invalid',
      );
    if (message.version !== PROTOCOL_VERSION) {
      await fail('version_unsupported', versionMessage(message.version));
      return;
    }
    const edge = await store.edges.get(message.edgeId);
    if (edge === null) {
      await notKnown('edge_unknown');
      return;
    }
    // The secret first: only an edge that proves who it is learns that it is revoked.
    if (!(await store.edges.secretMatches(edge.id, message.secret))) {
      await notKnown('secret_invalid');
      return;
    }
    if (edge.revokedAt !== null) {
      await fail('edge_revoked', `edge ${edge.name} (${edge.id}) is revoked`);
      return;
    }

    // On several replicas, the store decides which session is the edge's one: this newest one.
    await this.mesh?.claim(edge.id, session.id, message.bootId);
    if (session.closed) {
      this.mesh?.release(edge.id, session.id);
      return;
    }
    const previous = this.sessions.get(edge.id);
    if (previous !== undefined) previous.close('replaced', 'the edge connected again');
    session.accept(edge.id, message.bootId);
    this.pending.settle(session.remote);
    this.sessions.set(edge.id, session);
    await store.edges.seen(edge.id, message.version);
    this.logger.info(
      {
        edgeId: edge.id,
        name: edge.name,
        bootId: message.bootId,
        rules: message.ruleCount,
        capabilities: message.capabilities,
      },
      'edge connected',
    );
    const servers = this.controlAddresses();
    session.send({
      type: 'welcome',
      edgeId: edge.id,
      name: edge.name,
      statsIntervalMs: this.options.statsIntervalMs,
      // The replicas alive now: the edge's next tries go to them, even ones its bundle predates.
      ...(servers.length === 0 ? {} : { servers }),
    });
    await this.pushFull(edge.id);
  }

  private async onAck(session: EdgeSession, ack: AckMessage, push: PushRequest | undefined): Promise<void> {
    const edgeId = session.edgeId;
    if (edgeId === null) return;
    await this.options.store.transaction(async (tx) => {
      // Active results, most of an ack of a full push, are stored a batch per statement.
      await tx.rules.setActive(
        edgeId,
        ack.results.filter((result) => result.state === 'active'),
      );
      for (const result of ack.results) {
        if (result.state === 'active') continue;
        if (result.state === 'failed') {
          await tx.rules.setState(
            edgeId,
            result.ruleId,
            result.revision,
            'failed',
            result.code ?? 'failed',
            result.message ?? null,
          );
        } else {
          await tx.rules.purgeTombstones(edgeId, [result.ruleId]);
        }
      }
      // The edge has applied the push: a full one leaves it running exactly the live set, and
      // a removal is done whatever the result says.
      if (push?.full === true) await tx.rules.purgeTombstones(edgeId);
      else if (push !== undefined) await tx.rules.purgeTombstones(edgeId, push.remove);
    });
    const failed = ack.results.filter((result) => result.state === 'failed');
    this.logger.info(
      {
        edgeId,
        pushId: ack.pushId,
        results: ack.results.length,
        failed: failed.map((r) => `${r.ruleId}: ${r.code}`),
        late: push === undefined,
      },
      'push acked',
    );
  }

  private async onStats(session: EdgeSession, stats: StatsMessage): Promise<void> {
    const edgeId = session.edgeId;
    if (edgeId === null) return;
    const { store, statsHub } = this.options;
    // The rules this report leaves out had not moved since the session's last report: their
    // rates are taken from then (fold-stats.ts).
    const since = session.statsArrivedAt;
    session.statsArrivedAt = store.now();
    await store.edges.seen(edgeId, null);
    // Folded in slices, each its own transaction: the store has one connection, and an edge of
    // 10,000 rules folded at once held it for 250-350 ms, every push waiting behind it. Each
    // rule's fold stands alone; the owners' usage goes with the last slice. Between slices the
    // event loop takes a turn: node:sqlite answers within the same turn, so without one a push
    // that arrived meanwhile would wait for the whole report (956 rules: 42 ms in the bench).
    let from = 0;
    do {
      if (from > 0) {
        await setImmediate();
        // A session that ended meanwhile folds no more (a stopping server closes its sessions,
        // then the store): the edge's first report on its next session names every rule.
        if (session.closed) return;
      }
      const slice = stats.rules.slice(from, from + STATS_SLICE);
      from += STATS_SLICE;
      const last = from >= stats.rules.length;
      const owners = last ? stats.owners : [];
      const records = await store.stats.record(edgeId, stats.bootId, slice, owners, since);
      for (const record of records) statsHub.publish(record);
      this.mesh?.publishStats(records);
    } while (from < stats.rules.length);
  }

  private onClose(session: EdgeSession, _reason: string): void {
    this.open.delete(session);
    const edgeId = session.edgeId;
    if (edgeId === null || this.sessions.get(edgeId) !== session) return;
    this.sessions.delete(edgeId);
    this.mesh?.release(edgeId, session.id);
    // Asked now, so it lands before a store that closes with the server; on an edge that was
    // deleted it changes nothing.
    this.options.store.edges.seen(edgeId, null).catch((error: unknown) => {
      this.logger.warn({ err: error, edgeId }, 'cannot record when the edge was last seen');
    });
  }
}

/** The client's address without its port: what lockouts count by. */
function clientAddress(session: EdgeSession): string {
  return session.socket.remoteAddress ?? '?';
}

function isStoreUnavailable(error: unknown): boolean {
  return error instanceof SluiceError && error.code === 'store_unavailable';
}

function versionMessage(version: number): string {
  return `the edge speaks control protocol version ${version}; this server speaks ${PROTOCOL_VERSION}`;
}
