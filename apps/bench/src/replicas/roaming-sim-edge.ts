// A simulated edge (../control-plane/sim-edge.ts) that moves between replicas as sluice-edge
// does: it holds the enrollment URI's addresses in order, and when its session ends it waits one
// step of sluice-edge's backoff (a uniform 0.5..1 s) and connects to the next address; a failed
// connect moves on to the one after, the same way. Every session's welcome and every full push it
// acked are timestamped (Date.now(), the clock of the servers' log lines).

import { setTimeout as sleep } from 'node:timers/promises';
import { formatControlAddress, parseEnrollUri } from '@sluice/protocol';
import type { ServerApi } from '../control-plane/server-api.ts';
import { type ControlTarget, type EdgeCredentials, SimEdge } from '../control-plane/sim-edge.ts';

/** sluice-edge's first backoff step (apps/edge/src/backoff.ts): 500 ms, jittered up to twice that. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 1000;

export interface SessionRecord {
  /** `host:port` of the replica. */
  readonly server: string;
  readonly welcomedAt: number;
  /** When the session's first full push was acked with every rule active (null: not yet). */
  fullAckedAt: number | null;
  fullRules: number | null;
}

export class RoamingSimEdge {
  readonly credentials: EdgeCredentials;
  readonly targets: readonly ControlTarget[];
  readonly sessions: SessionRecord[] = [];
  #index: number;
  #session: SimEdge | null = null;
  #stopped = false;
  #roaming: Promise<void> = Promise.resolve();

  private constructor(credentials: EdgeCredentials, targets: readonly ControlTarget[]) {
    this.credentials = credentials;
    this.targets = targets;
    this.#index = 0;
  }

  /** Enrolled through `api` (its URI lists that replica first), then connected to the first address. */
  static async enroll(api: ServerApi, name: string): Promise<RoamingSimEdge> {
    const enrollment = await api.enroll(name);
    const uri = parseEnrollUri(enrollment.uri);
    const targets = uri.servers.map((server) => ({ host: server.host, port: server.port, pin: uri.pin }));
    const credentials = await SimEdge.enroll(targets[0]!, uri.code, name);
    const edge = new RoamingSimEdge(credentials, targets);
    await edge.#connect();
    return edge;
  }

  get session(): SimEdge | null {
    return this.#session;
  }

  get server(): string {
    return formatControlAddress(this.targets[this.#index]!);
  }

  get connected(): boolean {
    return this.#session?.connected ?? false;
  }

  /** Stats reports sent over every session so far. */
  statsSent = 0;

  async #connect(): Promise<void> {
    const server = this.server;
    let record: SessionRecord | null = null;
    const pending: { full: number | null; at: number } = { full: null, at: 0 };
    const session = await SimEdge.connect(this.targets[this.#index]!, this.credentials, (push, held) => {
      if (!push.full) return;
      // The full push follows welcome at once, possibly before connect() resolves here.
      if (record === null) {
        pending.full = held;
        pending.at = Date.now();
      } else if (record.fullAckedAt === null) {
        record.fullAckedAt = Date.now();
        record.fullRules = held;
      }
    });
    record = {
      server,
      welcomedAt: Date.now(),
      fullAckedAt: pending.full === null ? null : pending.at,
      fullRules: pending.full,
    };
    this.sessions.push(record);
    this.#session = session;
    void session.closed.then(() => {
      this.statsSent += session.statsSent;
      if (!this.#stopped) this.#roaming = this.#roam();
    });
  }

  async #roam(): Promise<void> {
    while (!this.#stopped) {
      this.#index = (this.#index + 1) % this.targets.length;
      await sleep(RETRY_MIN_MS + Math.random() * (RETRY_MAX_MS - RETRY_MIN_MS));
      if (this.#stopped) return;
      try {
        await this.#connect();
        return;
      } catch {
        // A dead address: the next one after another backoff step.
      }
    }
  }

  /** The latest session, once its full push was acked. */
  get lastSession(): SessionRecord | null {
    return this.sessions.at(-1) ?? null;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#session?.close();
    await this.#roaming;
  }
}
