// This server as one of several replicas on one PostgreSQL store. It keeps:
// - membership: a heartbeat row every 2 s; a replica unheard for 6 s counts as dead, and the
//   live ones' control addresses are what enrollment URIs and welcomes list;
// - the directory of which replica holds each edge's one session. The store is the arbiter:
//   a claim replaces any other (store.replicas.claimSession), the bus tells the others at once,
//   and a read of the whole table every heartbeat repairs whatever a lost message missed;
// - calls: a push or disconnect for an edge held elsewhere goes to its holder over the bus,
//   and the holder's outcome comes back the same way.

import { randomUUID } from 'node:crypto';
import { MAX_CONTROL_ADDRESSES } from '@sluice/protocol';
import type { Logger } from 'pino';
import type { HostPort } from '../server-config.ts';
import type { EdgeSessionRecord, ReplicaRecord, RuleStatsRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import { MAX_PAYLOAD_BYTES, ReplicaBus } from './replica-bus.ts';
import type { ReplicaMessage, RoutedOp, RoutedOutcome } from './replica-messages.ts';

export const HEARTBEAT_MS = 2_000;
export const DEAD_AFTER_MS = 6_000;

export interface ReplicaMeshHandlers {
  /** Another replica asks this one to act on an edge whose session it holds. */
  onCall(op: RoutedOp): Promise<RoutedOutcome>;
  /** The edge's session moved to another replica: end the local one if it is still `sessionId`. */
  onSuperseded(edgeId: string, sessionId: string): void;
  /** Stats another replica folded, for this one's live streams. */
  onStats(records: readonly RuleStatsRecord[]): void;
}

export interface ReplicaMeshOptions {
  readonly store: Store;
  /** The store's PostgreSQL URL: the bus has a connection of its own. */
  readonly url: string;
  readonly logger: Logger;
  /** How long a caller waits for the holder's outcome: longer than the holder's ack budget. */
  readonly callTimeoutMs: number;
  readonly now?: () => number;
}

interface PendingCall {
  readonly resolve: (outcome: RoutedOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

interface LocalClaim {
  readonly sessionId: string;
  readonly bootId: string;
  /** When the claim was committed: a directory read begun before it may not know it yet. */
  readonly committedAt: number;
}

export class ReplicaMesh {
  readonly id = randomUUID();
  private readonly options: ReplicaMeshOptions;
  private readonly logger: Logger;
  private readonly bus: ReplicaBus;
  private handlers: ReplicaMeshHandlers | null = null;
  private readonly now: () => number;
  private live = new Map<string, ReplicaRecord>();
  private directory = new Map<string, EdgeSessionRecord>();
  private readonly mine = new Map<string, LocalClaim>();
  private readonly calls = new Map<string, PendingCall>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private stopped = false;
  /** Where edges reach this replica; known once the control listener is bound. */
  private advertise: HostPort = { host: '', port: 0 };

  constructor(options: ReplicaMeshOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.logger = options.logger.child({ area: 'replicas', replica: this.id });
    this.bus = new ReplicaBus(options.url, options.logger, {
      onMessage: (message) => this.onMessage(message),
      onConnected: () => void this.refresh(),
    });
  }

  /** Joins: the first heartbeat (a store that cannot be reached fails the start), the bus, the directory. */
  async start(handlers: ReplicaMeshHandlers, advertise: HostPort): Promise<void> {
    this.handlers = handlers;
    this.advertise = advertise;
    await this.heartbeat();
    await this.bus.start();
    await this.refresh();
    this.send({ type: 'membership', from: this.id });
    this.timer = setInterval(() => void this.tick(), HEARTBEAT_MS);
    this.timer.unref();
    this.logger.info({ control: `${this.advertise.host}:${this.advertise.port}` }, 'replica joined');
  }

  /** Leaves: the others stop routing to it at once instead of after DEAD_AFTER_MS. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const [callId, call] of this.calls) {
      clearTimeout(call.timer);
      call.resolve({ kind: 'offline' });
      this.calls.delete(callId);
    }
    await this.options.store.replicas
      .remove(this.id)
      .then(
        () => this.bus.publish({ type: 'membership', from: this.id }),
        (error: unknown) =>
          this.logger.warn({ err: String(error) }, 'cannot remove this replica from the store'),
      )
      .catch(() => undefined);
    await this.bus.stop();
  }

  /** Every live replica's control address, this one first. */
  controlAddresses(): HostPort[] {
    const others = [...this.live.values()]
      .filter((replica) => replica.id !== this.id)
      .map((replica) => ({ host: replica.controlHost, port: replica.controlPort }));
    // The URI and the bundle carry at most MAX_CONTROL_ADDRESSES.
    return [this.advertise, ...others].slice(0, MAX_CONTROL_ADDRESSES);
  }

  get liveCount(): number {
    return Math.max(1, this.live.size);
  }

  /** The live replica other than this one that holds the edge's session, if any. */
  holder(edgeId: string): string | null {
    const record = this.directory.get(edgeId);
    if (record === undefined || record.replicaId === this.id) return null;
    return this.live.has(record.replicaId) ? record.replicaId : null;
  }

  /** Makes a session of this replica the edge's one session; throws when the store can't. */
  async claim(edgeId: string, sessionId: string, bootId: string): Promise<void> {
    const record: EdgeSessionRecord = { edgeId, replicaId: this.id, sessionId, bootId, since: this.now() };
    const replaced = await this.options.store.replicas.claimSession(record);
    this.mine.set(edgeId, { sessionId, bootId, committedAt: this.now() });
    this.directory.set(edgeId, record);
    if (replaced !== null && replaced.replicaId !== this.id) {
      this.logger.info({ edgeId, from: replaced.replicaId }, 'edge session taken over from another replica');
    }
    this.send({ type: 'claimed', from: this.id, edgeId, sessionId });
  }

  /** The local session ended: its record goes, unless another session has replaced it. */
  release(edgeId: string, sessionId: string): void {
    if (this.mine.get(edgeId)?.sessionId === sessionId) this.mine.delete(edgeId);
    if (this.directory.get(edgeId)?.sessionId === sessionId) this.directory.delete(edgeId);
    this.options.store.replicas.releaseSession(edgeId, sessionId).catch((error: unknown) => {
      this.logger.warn({ err: String(error), edgeId }, 'cannot release the edge session record');
    });
  }

  /** Asks the replica `to` to act; resolves with its outcome, or offline / timeout. */
  call(to: string, op: RoutedOp): Promise<RoutedOutcome> {
    const callId = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.calls.delete(callId);
        this.logger.warn(
          { to, op: op.kind, edgeId: op.edgeId },
          'no answer from the replica holding the edge',
        );
        resolve({ kind: 'timeout', pushId: 0 });
      }, this.options.callTimeoutMs);
      this.calls.set(callId, { resolve, timer });
      this.bus.publish({ type: 'call', from: this.id, to, callId, op }).catch((error: unknown) => {
        clearTimeout(timer);
        this.calls.delete(callId);
        this.logger.warn(
          { err: String(error), to, op: op.kind },
          'cannot reach the replica holding the edge',
        );
        resolve({ kind: 'offline' });
      });
    });
  }

  /** Lets the other replicas' live streams see stats this one folded. */
  publishStats(records: readonly RuleStatsRecord[]): void {
    if (this.live.size <= 1 || records.length === 0) return;
    // Each record is a few hundred bytes: send as many per message as fit.
    let batch: RuleStatsRecord[] = [];
    let bytes = 100;
    for (const record of records) {
      const size = JSON.stringify(record).length + 1;
      if (batch.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
        this.send({ type: 'stats', from: this.id, records: batch });
        batch = [];
        bytes = 100;
      }
      batch.push(record);
      bytes += size;
    }
    this.send({ type: 'stats', from: this.id, records: batch });
  }

  private send(message: ReplicaMessage): void {
    this.bus.publish(message).catch((error: unknown) => {
      // The others learn it from the store within a heartbeat.
      this.logger.debug({ err: String(error), type: message.type }, 'replica message not sent');
    });
  }

  private onMessage(message: ReplicaMessage): void {
    if (message.from === this.id || this.handlers === null) return;
    switch (message.type) {
      case 'membership':
        void this.refresh();
        return;
      case 'claimed':
        this.directory.set(message.edgeId, {
          edgeId: message.edgeId,
          replicaId: message.from,
          sessionId: message.sessionId,
          bootId: '',
          since: this.now(),
        });
        if (this.mine.has(message.edgeId)) void this.recheck(message.edgeId);
        return;
      case 'call':
        if (message.to !== this.id) return;
        void this.answer(message.from, message.callId, message.op);
        return;
      case 'reply': {
        if (message.to !== this.id) return;
        const call = this.calls.get(message.callId);
        if (call === undefined) return;
        clearTimeout(call.timer);
        this.calls.delete(message.callId);
        call.resolve(message.outcome);
        return;
      }
      case 'stats':
        this.handlers.onStats(message.records);
        return;
    }
  }

  private async answer(to: string, callId: string, op: RoutedOp): Promise<void> {
    let outcome: RoutedOutcome;
    try {
      outcome = await this.handlers!.onCall(op);
    } catch (error) {
      this.logger.warn({ err: String(error), op: op.kind, edgeId: op.edgeId }, 'routed call failed');
      outcome = { kind: 'offline' };
    }
    if (outcome.kind === 'acked') {
      // A failure message can be long; the reply must fit one notification.
      outcome = {
        ...outcome,
        results: outcome.results.map((result) =>
          result.message === undefined ? result : { ...result, message: result.message.slice(0, 500) },
        ),
      };
    }
    await this.bus.publish({ type: 'reply', from: this.id, to, callId, outcome }).catch((error: unknown) => {
      this.logger.warn({ err: String(error), op: op.kind }, 'cannot answer a routed call');
    });
  }

  /** The store says who holds the edge now; a local session it no longer names ends. */
  private async recheck(edgeId: string): Promise<void> {
    const claim = this.mine.get(edgeId);
    if (claim === undefined) return;
    const record = await this.options.store.replicas.session(edgeId).catch(() => undefined);
    if (record === undefined) return;
    if (record !== null && record.sessionId !== claim.sessionId && this.mine.get(edgeId) === claim) {
      this.mine.delete(edgeId);
      this.handlers?.onSuperseded(edgeId, claim.sessionId);
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.heartbeat();
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'replica heartbeat not recorded');
      return;
    }
    await this.refresh();
  }

  private heartbeat(): Promise<void> {
    return this.options.store.replicas.heartbeat({
      id: this.id,
      controlHost: this.advertise.host,
      controlPort: this.advertise.port,
    });
  }

  /** Reads membership and the whole directory; repairs what lost messages missed. */
  private refresh(): Promise<void> {
    this.refreshing ??= this.readState().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async readState(): Promise<void> {
    const begun = this.now();
    let live: ReplicaRecord[];
    let sessions: EdgeSessionRecord[];
    try {
      live = await this.options.store.replicas.live(begun - DEAD_AFTER_MS);
      sessions = await this.options.store.replicas.sessions();
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'cannot read the replicas and edge sessions');
      return;
    }
    this.live = new Map(live.map((replica) => [replica.id, replica]));
    this.directory = new Map(sessions.map((record) => [record.edgeId, record]));
    for (const [edgeId, claim] of this.mine) {
      // A claim committed after the read began may be missing from it; the next read has it.
      if (claim.committedAt >= begun) continue;
      const record = this.directory.get(edgeId);
      if (record === undefined) {
        // The record went (a database restored from before the claim): claim it again.
        const again: EdgeSessionRecord = {
          edgeId,
          replicaId: this.id,
          sessionId: claim.sessionId,
          bootId: claim.bootId,
          since: this.now(),
        };
        await this.options.store.replicas.claimSession(again).catch(() => undefined);
        this.directory.set(edgeId, again);
      } else if (record.sessionId !== claim.sessionId) {
        this.mine.delete(edgeId);
        this.handlers?.onSuperseded(edgeId, claim.sessionId);
      }
    }
  }
}
