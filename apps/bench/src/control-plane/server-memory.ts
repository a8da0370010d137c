// (c) sluice-server's memory with many edges and rules. The edges are SIMULATED: protocol clients
// in the bench process (sim-edge.ts) with real pinned TLS sessions, real enrollment, real acks and
// a stats report every 5 s each, but no data plane. The server cannot tell them from sluice-edge,
// and 50 real edges (50 Node processes with worker threads) would not fit beside it on a small
// machine without disturbing what is measured.
//
// Memory is read from /proc (VmRSS, and PSS from smaps_rollup) of the server process: once idle
// before any edge connected, once with every edge connected and no rule, right after the last
// rule went Active, and every second of a settle period with everything running.

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEnrollUri } from '@sluice/protocol';
import { BENCH_ERRORS } from '../errors.ts';
import { treePssKiB } from '../rss.ts';
import { median } from '../stats.ts';
import { makeTempDir } from '../temp-dir.ts';
import { type LatencySummary, summarizeLatency } from './latency.ts';
import type { ControlPlanePlan } from './plan.ts';
import { type RunningServer, startServer } from './processes.ts';
import { benchRule } from './server-api.ts';
import { type ControlTarget, SimEdge } from './sim-edge.ts';

export interface MemoryReading {
  /** Seconds since the server was ready. */
  readonly atSeconds: number;
  readonly rssKiB: number;
  readonly pssKiB: number;
}

export interface ServerMemoryReport {
  readonly edges: number;
  readonly rules: number;
  readonly simulatedEdges: true;
  readonly statsIntervalMs: number;
  readonly settleSeconds: number;
  /** Ready, nothing enrolled, nothing connected (after 2 s idle). */
  readonly idle: MemoryReading;
  /** Every edge enrolled and connected, no rule yet (after 2 s). */
  readonly edgesConnected: MemoryReading;
  /** Right after the last rule went Active. */
  readonly rulesActive: MemoryReading;
  /** At the end of the settle period. */
  readonly settled: MemoryReading;
  /** VmRSS over the settle period, sampled every second. */
  readonly settleRss: { readonly minKiB: number; readonly medianKiB: number; readonly maxKiB: number };
  readonly settleSamples: readonly MemoryReading[];
  /** Filling the edges: POST /v1/rules with `pushConcurrency` in flight, acked by the simulated edges. */
  readonly fill: {
    readonly concurrency: number;
    readonly seconds: number;
    readonly pushesPerSecond: number;
    readonly latency: LatencySummary;
  };
  /** What the server reported at the end, so the figures are for the load they claim. */
  readonly check: {
    readonly edgesConnected: number;
    readonly rulesActive: number;
    /** Stats reports the simulated edges sent over the whole run. */
    readonly statsReports: number;
    /** GET /v1/rules/ID/stats of one rule: when a report last mentioned it (null: never). */
    readonly sampleRuleStatsAt: string | null;
  };
}

function reading(server: RunningServer, readyAt: number): MemoryReading {
  const pss = treePssKiB(server.pid);
  if (pss === null)
    throw new Error(`sluice-server (pid ${server.pid}) is gone\n${server.proc.process.describe()}`);
  return {
    atSeconds: Math.round((performance.now() - readyAt) / 100) / 10,
    rssKiB: pss.rssKiB,
    pssKiB: pss.kib,
  };
}

async function connectEdges(
  server: RunningServer,
  count: number,
  log: (line: string) => void,
): Promise<SimEdge[]> {
  const edges: SimEdge[] = [];
  for (let i = 0; i < count; i++) {
    const name = `sim-${String(i + 1).padStart(3, '0')}`;
    const enrollment = await server.api.enroll(name);
    const uri = parseEnrollUri(enrollment.uri);
    // The bench runs one server: its URI has one address.
    const [control] = uri.servers;
    if (control === undefined) throw new Error(`enrollment URI without an address: ${enrollment.uri}`);
    const target: ControlTarget = { host: control.host, port: control.port, pin: uri.pin };
    const credentials = await SimEdge.enroll(target, uri.code, name);
    edges.push(await SimEdge.connect(target, credentials));
  }
  log(`server memory: ${count} simulated edges enrolled and connected`);
  return edges;
}

async function fillRules(
  server: RunningServer,
  edges: readonly SimEdge[],
  plan: ControlPlanePlan,
  log: (line: string) => void,
): Promise<ServerMemoryReport['fill']> {
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let j = next++; j < plan.rules; j = next++) {
      const edge = edges[j % edges.length]!;
      // Ports repeat across edges (each edge is its own host); within an edge they are distinct.
      const port = 20_000 + Math.floor(j / edges.length);
      const t0 = performance.now();
      const response = await server.api.pushRule(edge.credentials.name, benchRule(`r${j}`, port));
      samples.push(performance.now() - t0);
      if (response.status !== 201) {
        throw new Error(
          `POST /v1/rules (rule ${j} to ${edge.credentials.name}): ${response.status} ${response.text}`,
        );
      }
      if ((j + 1) % Math.max(1, Math.round(plan.rules / 4)) === 0)
        log(`server memory: ${j + 1}/${plan.rules} rules`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, plan.pushConcurrency) }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    concurrency: plan.pushConcurrency,
    seconds: Math.round(seconds * 1000) / 1000,
    pushesPerSecond: Math.round((plan.rules / seconds) * 10) / 10,
    latency: summarizeLatency(samples)!,
  };
}

export async function runServerMemory(
  plan: ControlPlanePlan,
  log: (line: string) => void,
): Promise<ServerMemoryReport> {
  const dir = makeTempDir('control-plane');
  let server: RunningServer | null = null;
  const edges: SimEdge[] = [];
  try {
    server = await startServer(join(dir.path, 'data'));
    const readyAt = performance.now();
    log(`server memory: sluice-server ready (pid ${server.pid}); 2 s idle`);
    await sleep(2000);
    const idle = reading(server, readyAt);
    edges.push(...(await connectEdges(server, plan.edges, log)));
    const api = server.api;
    const connectedNow = async (): Promise<number> => (await api.edges()).filter((e) => e.connected).length;
    const deadline = performance.now() + 30_000;
    while ((await connectedNow()) < plan.edges) {
      if (performance.now() > deadline) {
        throw BENCH_ERRORS.error('timeout', {
          ms: 30_000,
          what: `${plan.edges} edges connected in GET /v1/edges`,
        });
      }
      await sleep(100);
    }
    await sleep(2000);
    const edgesConnected = reading(server, readyAt);
    const fill = await fillRules(server, edges, plan, log);
    const rulesActive = reading(server, readyAt);
    log(
      `server memory: ${plan.rules} rules active; settling for ${plan.settleSeconds} s (stats every ${edges[0]?.statsIntervalMs ?? '?'} ms per edge)`,
    );
    const settleSamples: MemoryReading[] = [];
    for (let s = 0; s < plan.settleSeconds; s++) {
      await sleep(1000);
      settleSamples.push(reading(server, readyAt));
      const lost = edges.find((edge) => !edge.connected);
      if (lost !== undefined)
        throw new Error(`simulated edge ${lost.credentials.name} lost its session: ${lost.endedBecause}`);
    }
    const settled = settleSamples.at(-1) ?? reading(server, readyAt);
    const rss = settleSamples.map((r) => r.rssKiB);
    const rules = await api.rules();
    const sampleRule = rules[0];
    const check = {
      edgesConnected: await connectedNow(),
      rulesActive: rules.filter((r) => r.state === 'active').length,
      statsReports: edges.reduce((total, edge) => total + edge.statsSent, 0),
      sampleRuleStatsAt: sampleRule === undefined ? null : (await api.ruleStats(sampleRule.id)).at,
    };
    return {
      edges: plan.edges,
      rules: plan.rules,
      simulatedEdges: true,
      statsIntervalMs: edges[0]?.statsIntervalMs ?? 0,
      settleSeconds: plan.settleSeconds,
      idle,
      edgesConnected,
      rulesActive,
      settled,
      settleRss: {
        minKiB: rss.length === 0 ? settled.rssKiB : Math.min(...rss),
        medianKiB: rss.length === 0 ? settled.rssKiB : median(rss),
        maxKiB: rss.length === 0 ? settled.rssKiB : Math.max(...rss),
      },
      settleSamples,
      fill,
      check,
    };
  } finally {
    for (const edge of edges) edge.close();
    if (server !== null) await server.proc.process.stop('SIGTERM', 10_000);
    dir.remove();
  }
}
