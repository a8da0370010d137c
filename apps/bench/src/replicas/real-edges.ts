// (1) Push → Active latency and (2) edge failover, with real managed sluice-edge processes
// (enrolled with `sluice-edge enroll URI`, started from their bundle as bench:control does).
//
// (1) One edge enrolled through replica A (its URI lists A, then B) holds its session on A.
//     N rules pushed one by one through A's API (served by A), then N through B's API (B routes
//     each push over the replica bus to A, which pushes it to the edge and answers back), each
//     timed from the request to the end of the 201 (the rule Active). Baseline: the same N to an edge
//     of a single sluice-server on SQLite, started and measured in the same run.
// (2) A second edge with a few rules, on A: A is SIGKILLed; measured from just before the kill
//     to the edge's `control connected` line naming B, and to its `rules applied` line for the
//     full push that follows. Then A starts again at its addresses and the edge is restarted
//     from its bundle (it tries A first), and the next round kills A again.

import { join } from 'node:path';
import { type LatencySummary, summarizeLatency } from '../control-plane/latency.ts';
import type { LoggedProcess } from '../control-plane/logged-process.ts';
import { PortSource } from '../control-plane/plan.ts';
import {
  edgeActiveRules,
  enrollRealEdge,
  type RunningServer,
  spawnRealEdge,
  startServer,
} from '../control-plane/processes.ts';
import { pushTimed, waitEdgeConnected } from '../control-plane/real-edge.ts';
import type { ServerApi } from '../control-plane/server-api.ts';
import { freePorts } from '../ports.ts';
import { type Summary, summarize } from '../stats.ts';
import type { ReplicasPlan } from './plan.ts';
import { controlLabel, killReplica, type ReplicaPair, restartReplica } from './replica-processes.ts';

export interface PushSeries {
  readonly pushes: number;
  readonly seconds: number;
  readonly latency: LatencySummary;
  readonly retried: readonly string[];
}

export interface PushLatencyReport {
  readonly pushes: number;
  /** Through A's API, the edge's session on A. */
  readonly throughA: PushSeries;
  /** Through B's API, routed to A over the bus. */
  readonly throughB: PushSeries;
  /** A single sluice-server on SQLite, its own edge. */
  readonly sqlite: PushSeries | null;
  /** The replicated edge's /metrics afterwards: rules active (2 N expected). */
  readonly edgeActiveRules: number | null;
}

export interface FailoverRound {
  /** Kill → the edge's `control disconnected` (it saw the session end). */
  readonly detectMs: number | null;
  /** Kill → `control connected` naming B. */
  readonly connectedMs: number;
  /** Kill → `rules applied` of B's full push. */
  readonly appliedMs: number;
  readonly rulesApplied: number | null;
}

export interface FailoverReport {
  readonly rounds: readonly FailoverRound[];
  readonly rules: number;
  readonly connected: Summary;
  readonly applied: Summary;
}

const SHARDS = 1;

/**
 * The real edges' rules listen upwards from here: above the 20000.. that bench:control's edge
 * takes, so that both benches can run on one host at once without taking each other's ports.
 */
const RULE_PORTS_FROM = 26_000;

/** Enrolls `name` through `api`, starts it, and waits for its session on `server` (host:port). */
async function startEdge(
  api: ServerApi,
  name: string,
  dir: string,
  server: string,
): Promise<{ edge: LoggedProcess; bundle: string; metricsPort: number }> {
  const enrollment = await api.enroll(name);
  const bundle = join(dir, `${name}.bundle`);
  await enrollRealEdge(enrollment.uri, bundle);
  const [metricsPort] = await freePorts(1);
  const edge = spawnRealEdge(bundle, SHARDS, metricsPort!);
  await edge.waitFor('control connected', (line) => line.server === server, 60_000);
  await waitEdgeConnected(api, name, true);
  return { edge, bundle, metricsPort: metricsPort! };
}

async function series(
  api: ServerApi,
  name: string,
  edge: LoggedProcess,
  pushes: number,
  ports: PortSource,
  prefix: string,
  label: string,
  log: (line: string) => void,
): Promise<PushSeries> {
  const timed = await pushTimed(api, name, edge, pushes, ports, prefix, (done) =>
    log(`push latency ${label}: ${done}/${pushes}`),
  );
  const latency = summarizeLatency(timed.samples)!;
  log(`push latency ${label}: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms`);
  return {
    pushes: timed.samples.length,
    seconds: Math.round(timed.seconds * 1000) / 1000,
    latency,
    retried: timed.retried,
  };
}

/** The SQLite baseline of (1): a fresh single server and edge, stopped afterwards. */
export async function sqlitePushes(
  dir: string,
  plan: ReplicasPlan,
  log: (line: string) => void,
): Promise<PushSeries> {
  let server: RunningServer | null = null;
  let edge: LoggedProcess | null = null;
  try {
    server = await startServer(join(dir, 'sqlite'), { name: 'sluice-server (SQLite)' });
    const started = await startEdge(
      server.api,
      'push-edge',
      join(dir, 'sqlite'),
      `127.0.0.1:${server.controlPort}`,
    );
    edge = started.edge;
    return await series(
      server.api,
      'push-edge',
      edge,
      plan.pushes,
      new PortSource(RULE_PORTS_FROM),
      's',
      'SQLite',
      log,
    );
  } finally {
    await edge?.process.stop('SIGTERM', 10_000);
    await server?.proc.process.stop('SIGTERM', 10_000);
  }
}

/** (1) on the replica pair: through A, then through B; the edge is stopped afterwards. */
export async function replicaPushes(
  pair: ReplicaPair,
  dir: string,
  plan: ReplicasPlan,
  log: (line: string) => void,
): Promise<Omit<PushLatencyReport, 'sqlite'>> {
  const { a, b } = pair;
  const started = await startEdge(a.server.api, 'push-edge', dir, controlLabel(a));
  try {
    await waitEdgeConnected(b.server.api, 'push-edge', true);
    log(`push latency: a real edge on replica A; ${plan.pushes} pushes through A, then through B`);
    const ports = new PortSource(RULE_PORTS_FROM);
    const throughA = await series(
      a.server.api,
      'push-edge',
      started.edge,
      plan.pushes,
      ports,
      'a',
      'via A',
      log,
    );
    const throughB = await series(
      b.server.api,
      'push-edge',
      started.edge,
      plan.pushes,
      ports,
      'b',
      'via B',
      log,
    );
    return {
      pushes: plan.pushes,
      throughA,
      throughB,
      edgeActiveRules: await edgeActiveRules(started.metricsPort),
    };
  } finally {
    await started.edge.process.stop('SIGTERM', 10_000);
  }
}

/** (2) on the replica pair; A is left killed (restartReplica starts it again). */
export async function failovers(
  pair: ReplicaPair,
  dir: string,
  plan: ReplicasPlan,
  log: (line: string) => void,
): Promise<FailoverReport> {
  const { a, b } = pair;
  const name = 'failover-edge';
  const started = await startEdge(a.server.api, name, dir, controlLabel(a));
  let edge = started.edge;
  const rounds: FailoverRound[] = [];
  try {
    const ports = new PortSource(RULE_PORTS_FROM);
    await pushTimed(a.server.api, name, edge, plan.failoverRules, ports, 'f');
    for (let round = 1; round <= plan.failovers; round++) {
      if (round > 1) {
        // Back on A: A started again at its addresses, the edge restarted from its bundle.
        await restartReplica(a, pair);
        await edge.process.stop('SIGTERM', 10_000);
        edge = spawnRealEdge(started.bundle, SHARDS, started.metricsPort);
        await edge.waitFor('control connected', (line) => line.server === controlLabel(a), 60_000);
        await edge.waitFor('rules applied', (line) => line.full === true, 30_000);
        await waitEdgeConnected(b.server.api, name, true);
      }
      const from = edge.logs.length;
      const killedAt = await killReplica(a);
      const connected = await edge.waitFor(
        'control connected',
        (line) => line.server === controlLabel(b),
        30_000,
        from,
      );
      const applied = await edge.waitFor('rules applied', (line) => line.full === true, 30_000, from);
      const lost = edge.find('control disconnected', () => true, from)[0];
      const result: FailoverRound = {
        detectMs: lost === undefined ? null : lost.time - killedAt,
        connectedMs: connected.time - killedAt,
        appliedMs: applied.time - killedAt,
        rulesApplied: typeof applied.active === 'number' ? applied.active : null,
      };
      rounds.push(result);
      log(
        `failover ${round}/${plan.failovers}: on B ${result.connectedMs} ms after the SIGKILL, full push applied at ${result.appliedMs} ms`,
      );
    }
  } finally {
    await edge.process.stop('SIGTERM', 10_000);
  }
  return {
    rounds,
    rules: plan.failoverRules,
    connected: summarize(rounds.map((r) => r.connectedMs))!,
    applied: summarize(rounds.map((r) => r.appliedMs))!,
  };
}
