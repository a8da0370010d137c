// A simulated managed edge: a protocol client in the bench process, not a data plane. It is the
// server tests' fake edge (@sluice/test-kit) on a TLS connection made by sluice-edge's own pinned
// connect: `enroll` on its own connection, then a session with `hello`; it acks every push (every
// upserted rule `active`, every removed one `removed`), sends cumulative `stats` for the rules it
// holds every `statsIntervalMs` of the welcome (counters that grow as if traffic flowed), pings
// every 10 s and answers pings. No listener is bound: the server cannot tell the difference, which
// is what lets one bench process stand in for 50 edges when measuring the server.

import { randomUUID } from 'node:crypto';
import { connectPinned, type PinnedTarget } from '@sluice/edge/pinned-connect';
import { PROTOCOL_VERSION, type RuleResult, type RuleStats, type ServerMessage } from '@sluice/protocol';
import { type AckPolicy, FakeEdge } from '@sluice/test-kit';

/** The server's control listener and the SHA-256 of its certificate (hex), from the enrollment URI. */
export type ControlTarget = PinnedTarget;

export interface EdgeCredentials {
  readonly edgeId: string;
  readonly name: string;
  readonly secret: string;
}

const PING_INTERVAL_MS = 10_000;
const CONNECT_TIMEOUT_MS = 15_000;

/** The first message of `type` (a refusal or the end rejects), within `timeoutMs`. */
async function firstMessage<T extends 'enrolled' | 'welcome'>(
  edge: FakeEdge,
  type: T,
  timeoutMs: number,
): Promise<Extract<ServerMessage, { type: T }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const message = await edge.next(undefined, deadline - Date.now()).catch((err: Error) => {
      void edge.close();
      throw new Error(`${err.message} (waiting for ${type})`);
    });
    if (message.type === type) return message as Extract<ServerMessage, { type: T }>;
    if (message.type === 'refused') {
      void edge.close();
      throw new Error(`refused: ${message.code}: ${message.message}`);
    }
  }
}

interface HeldRule {
  revision: number;
  bytesIn: number;
  bytesOut: number;
  connectionsTotal: number;
}

/** What the ack policy keeps up to date from the first push on. */
interface Held {
  readonly rules: Map<string, HeldRule>;
  pushes: number;
}

/** A pinned TLS session to the control listener, as the fake edge's socket. */
async function openSession(target: ControlTarget, ack: AckPolicy | null): Promise<FakeEdge> {
  const socket = await connectPinned(target, CONNECT_TIMEOUT_MS);
  socket.setNoDelay(true);
  return FakeEdge.over(socket, ack);
}

export class SimEdge {
  readonly credentials: EdgeCredentials;
  /** Sent in hello and with every stats report. */
  readonly bootId: string;
  readonly statsIntervalMs: number;
  statsSent = 0;
  readonly #edge: FakeEdge;
  readonly #held: Held;
  readonly #timers: NodeJS.Timeout[] = [];
  #seq = 0;

  private constructor(
    edge: FakeEdge,
    held: Held,
    credentials: EdgeCredentials,
    bootId: string,
    statsIntervalMs: number,
  ) {
    this.#edge = edge;
    this.#held = held;
    this.bootId = bootId;
    this.credentials = credentials;
    this.statsIntervalMs = statsIntervalMs;
    this.#timers.push(
      setInterval(() => this.#sendStats(), statsIntervalMs),
      setInterval(() => edge.send({ type: 'ping' }), PING_INTERVAL_MS),
    );
    void edge.closed.then(() => {
      for (const timer of this.#timers) clearInterval(timer);
    });
  }

  /** Redeems an enrollment code on its own connection, as `sluice-edge enroll` does. */
  static async enroll(target: ControlTarget, code: string, hostname: string): Promise<EdgeCredentials> {
    const edge = await openSession(target, null);
    edge.send({ type: 'enroll', version: PROTOCOL_VERSION, code, hostname });
    const enrolled = await firstMessage(edge, 'enrolled', CONNECT_TIMEOUT_MS);
    await edge.close();
    return { edgeId: enrolled.edgeId, name: enrolled.name, secret: enrolled.secret };
  }

  /**
   * Opens a session: hello, welcome; the server's first (full) push is acked as any other.
   * `onAck` hears of every push just before its ack goes out, with the rules then held.
   */
  static async connect(
    target: ControlTarget,
    credentials: EdgeCredentials,
    onAck?: (push: Parameters<AckPolicy>[0], rulesHeld: number) => void,
  ): Promise<SimEdge> {
    const held: Held = { rules: new Map(), pushes: 0 };
    const edge = await openSession(target, (push) => {
      held.pushes += 1;
      const results = applyPush(held.rules, push);
      onAck?.(push, held.rules.size);
      return results;
    });
    const bootId = randomUUID();
    edge.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      edgeId: credentials.edgeId,
      secret: credentials.secret,
      bootId,
      capabilities: ['tcp', 'udp'],
      ruleCount: 0,
    });
    const { statsIntervalMs } = await firstMessage(edge, 'welcome', CONNECT_TIMEOUT_MS);
    return new SimEdge(edge, held, credentials, bootId, statsIntervalMs);
  }

  /** What this edge "runs": rule id to revision and its made-up cumulative counters. */
  get rules(): ReadonlyMap<string, HeldRule> {
    return this.#held.rules;
  }

  get pushes(): number {
    return this.#held.pushes;
  }

  get connected(): boolean {
    return !this.#edge.isClosed;
  }

  /** Resolves when the session ends (closed here, by the server, or the server gone). */
  get closed(): Promise<void> {
    return this.#edge.closed;
  }

  /** Why the session ended; null while it is up. */
  get endedBecause(): string | null {
    return this.#edge.isClosed ? this.#edge.endReason : null;
  }

  close(): void {
    void this.#edge.close();
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
    this.#edge.send({ type: 'stats', bootId: this.bootId, seq: this.#seq++, rules });
    this.statsSent += 1;
  }
}

/** Takes a push into `rules` and answers its ack: a full push also removes what it leaves out. */
function applyPush(rules: Map<string, HeldRule>, push: Parameters<AckPolicy>[0]): RuleResult[] {
  const results: RuleResult[] = [];
  if (push.full) {
    const kept = new Set(push.upsert.map((rule) => rule.id));
    for (const id of rules.keys()) {
      if (!kept.has(id)) {
        rules.delete(id);
        results.push({ ruleId: id, revision: 0, state: 'removed' });
      }
    }
  }
  for (const rule of push.upsert) {
    const held = rules.get(rule.id);
    if (held === undefined) {
      rules.set(rule.id, { revision: rule.revision, bytesIn: 0, bytesOut: 0, connectionsTotal: 0 });
    } else {
      held.revision = rule.revision;
    }
    results.push({ ruleId: rule.id, revision: rule.revision, state: 'active' });
  }
  for (const id of push.remove) {
    rules.delete(id);
    results.push({ ruleId: id, revision: 0, state: 'removed' });
  }
  return results;
}
