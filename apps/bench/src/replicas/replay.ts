// (3) Replay after failover: E simulated edges (roaming-sim-edge.ts: protocol clients that move to
// the next address of their enrollment URI on their own, after sluice-edge's first backoff step),
// enrolled through A and holding their sessions on A, R rules each, all Active. A is SIGKILLed.
// Measured from just before the kill: every edge welcomed by B; every edge's full push from B
// acked with all R rules active (the edge's side); and B's `push acked` line for each, logged
// once the store has marked the R rules Active (the server's side, the figure that counts).

import { setTimeout as sleep } from 'node:timers/promises';
import { benchRule } from '../control-plane/server-api.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { type Summary, summarize } from '../stats.ts';
import { fillRules, waitAllActive } from './fill.ts';
import type { ReplicasPlan } from './plan.ts';
import { controlLabel, killReplica, type ReplicaPair } from './replica-processes.ts';
import { RoamingSimEdge } from './roaming-sim-edge.ts';

export interface ReplayAfterFailoverReport {
  readonly edges: number;
  readonly rulesPerEdge: number;
  readonly simulatedEdges: true;
  /** Filling A: every rule pushed through A's API with `concurrency` in flight. */
  readonly fillSeconds: number;
  /** Pushes of the fill answered 504 ack_timeout (the ack came later; every rule was Active before the kill). */
  readonly lateAcks: number;
  /** Pushes of the fill answered 503 store_unavailable, then retried. */
  readonly storeUnavailable: number;
  /** Kill → the last edge welcomed by B. */
  readonly allWelcomedMs: number;
  /** Kill → the last edge's full push from B acked, edge side. */
  readonly allAckedEdgeMs: number;
  /** Kill → B's last `push acked` of a full push (store updated), server side. */
  readonly allAckedServerMs: number;
  /** Per edge, kill → B's `push acked`. */
  readonly perEdgeServerMs: Summary;
  /** Per edge, B's `edge connected` → its `push acked` (the replay itself). */
  readonly replayServerMs: Summary;
  /** B's API afterwards: rules Active of E × R. */
  readonly rulesActiveAfter: number;
}

export async function replayAfterFailover(
  pair: ReplicaPair,
  plan: ReplicasPlan,
  log: (line: string) => void,
): Promise<ReplayAfterFailoverReport> {
  const { a, b } = pair;
  const edges: RoamingSimEdge[] = [];
  try {
    for (let i = 0; i < plan.replayEdges; i++) {
      edges.push(await RoamingSimEdge.enroll(a.server.api, `replay-${String(i + 1).padStart(3, '0')}`));
    }
    const total = plan.replayEdges * plan.replayRules;
    log(
      `replay: ${plan.replayEdges} simulated edges on A; pushing ${plan.replayRules} rules to each through A`,
    );
    const fillStarted = performance.now();
    const filled = await fillRules(
      a.server.api,
      total,
      plan.concurrency,
      (j) => {
        const rule = Math.floor(j / edges.length);
        return {
          edge: edges[j % edges.length]!.credentials.name,
          rule: benchRule(`r${rule}`, 20_000 + rule),
        };
      },
      (done) => log(`replay: ${done}/${total} rules pushed through A`),
    );
    await waitAllActive(
      a.server.api,
      edges.map((edge) => edge.credentials.name),
      total,
    );
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    const onA = edges.filter((edge) => edge.server === controlLabel(a) && edge.connected).length;
    if (onA !== edges.length)
      throw new Error(`${edges.length - onA} replay edges are not on A before the kill`);

    const serverFrom = b.server.proc.logs.length;
    const killedAt = await killReplica(a);
    log(`replay: A SIGKILLed; waiting for ${edges.length} edges' full pushes from B`);
    const deadline = performance.now() + 180_000;
    const done = (edge: RoamingSimEdge): boolean => {
      const last = edge.lastSession;
      return (
        last !== null &&
        last.server === controlLabel(b) &&
        last.fullAckedAt !== null &&
        (last.fullRules ?? 0) >= plan.replayRules
      );
    };
    while (!edges.every(done)) {
      if (performance.now() > deadline) {
        throw BENCH_ERRORS.error('timeout', {
          ms: 180_000,
          what: 'every replay edge acking its full push from B',
        });
      }
      await sleep(20);
    }
    const sessions = edges.map((edge) => edge.lastSession!);
    const acked = await Promise.all(
      edges.map((edge) =>
        b.server.proc.waitFor(
          'push acked',
          (line) => line.edgeId === edge.credentials.edgeId && line.results === plan.replayRules,
          30_000,
          serverFrom,
        ),
      ),
    );
    const connectedLines = edges.map(
      (edge) =>
        b.server.proc.find(
          'edge connected',
          (line) => line.edgeId === edge.credentials.edgeId,
          serverFrom,
        )[0],
    );
    const after = await Promise.all(edges.map((edge) => b.server.api.rules(edge.credentials.name)));
    const rulesActiveAfter = after.flat().filter((rule) => rule.state === 'active').length;
    return {
      edges: plan.replayEdges,
      rulesPerEdge: plan.replayRules,
      simulatedEdges: true,
      fillSeconds: Math.round(fillSeconds * 1000) / 1000,
      lateAcks: filled.lateAcks,
      storeUnavailable: filled.storeUnavailable,
      allWelcomedMs: Math.max(...sessions.map((s) => s.welcomedAt)) - killedAt,
      allAckedEdgeMs: Math.max(...sessions.map((s) => s.fullAckedAt!)) - killedAt,
      allAckedServerMs: Math.max(...acked.map((line) => line.time)) - killedAt,
      perEdgeServerMs: summarize(acked.map((line) => line.time - killedAt))!,
      replayServerMs: summarize(
        acked.flatMap((line, i) => {
          const connected = connectedLines[i];
          return connected === undefined ? [] : [line.time - connected.time];
        }),
      )!,
      rulesActiveAfter,
    };
  } finally {
    await Promise.all(edges.map((edge) => edge.close()));
  }
}
