// (4) Server CPU and RSS, and (5) database connections, with many simulated edges
// (../control-plane/sim-edge.ts, one rule each, stats every 5 s as the server's welcome asks) in
// three set-ups, each on fresh processes (and a fresh database): a single sluice-server on
// SQLite (the baseline), one replica on PostgreSQL with every edge, and two replicas with half
// each (edges enrolled through a replica connect to it first).
//
// Each set-up: ready; pg_stat_activity read (idle); the edges enrolled and connected
// (`concurrency` at a time); one rule pushed to each through the API of the replica holding it,
// `concurrency` in flight, pg_stat_activity read every `pgPollMs` meanwhile (under push load: the
// peak of each figure); `warmSeconds`; then the CPU window: utime+stime of each server process
// from /proc/PID/stat over `settleSeconds` with every edge connected and reporting stats, RSS at
// its end, and pg_stat_activity once more (settled).

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PgCluster } from '@sluice/test-kit';
import { type LatencySummary, summarizeLatency } from '../control-plane/latency.ts';
import { type RunningServer, startServer } from '../control-plane/processes.ts';
import { benchRule } from '../control-plane/server-api.ts';
import { type CpuWindow, cpuWindow, sampleTreeCpu } from '../cpu.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { rssKiB } from '../rss.ts';
import { fillRules, waitAllActive } from './fill.ts';
import {
  type ConnectionSample,
  peakConnections,
  pollConnections,
  sampleConnections,
} from './pg-connections.ts';
import type { ReplicasPlan } from './plan.ts';
import { createDatabase, startReplicaPair, stopReplicas } from './replica-processes.ts';
import { RoamingSimEdge } from './roaming-sim-edge.ts';

export type LoadSetup = 'sqlite' | 'one-replica' | 'two-replicas';

export interface ServerLoad {
  readonly label: string;
  readonly edges: number;
  /** Over the settle window. */
  readonly cpu: CpuWindow;
  readonly rssKiB: number;
}

export interface LoadReport {
  readonly setup: LoadSetup;
  readonly edges: number;
  readonly simulatedEdges: true;
  readonly servers: readonly ServerLoad[];
  /** Summed over the servers. */
  readonly cpuSeconds: number;
  readonly rssKiB: number;
  readonly enrollSeconds: number;
  /**
   * One rule to each edge; pushes answered 504 ack_timeout (Active later all the same) and 503
   * store_unavailable (retried). The latency is of each push's first try.
   */
  readonly fill: {
    readonly seconds: number;
    readonly latency: LatencySummary;
    readonly lateAcks: number;
    readonly storeUnavailable: number;
  };
  /** PostgreSQL set-ups only: before any edge, under the push load (peaks), settled. */
  readonly connections: {
    readonly idle: ConnectionSample;
    readonly underPushLoad: ConnectionSample;
    readonly pushLoadSamples: number;
    readonly settled: ConnectionSample;
  } | null;
  readonly check: { readonly edgesConnected: number; readonly rulesActive: number };
}

interface Member {
  readonly label: string;
  readonly server: RunningServer;
}

async function setupServers(
  setup: LoadSetup,
  dir: string,
  cluster: PgCluster,
): Promise<{ members: Member[]; store: string | null; stop: () => Promise<void> }> {
  if (setup === 'sqlite') {
    const server = await startServer(join(dir, 'sqlite'), { name: 'sluice-server (SQLite)' });
    return {
      members: [{ label: 'SQLite', server }],
      store: null,
      stop: () => server.proc.process.stop('SIGTERM', 10_000).then(() => {}),
    };
  }
  const store = await createDatabase(cluster, setup.replace('-', '_'));
  if (setup === 'one-replica') {
    const server = await startServer(join(dir, 'a'), { store, name: 'sluice-server A' });
    return {
      members: [{ label: 'A', server }],
      store,
      stop: () => server.proc.process.stop('SIGTERM', 10_000).then(() => {}),
    };
  }
  const pair = await startReplicaPair(dir, store);
  return {
    members: [
      { label: 'A', server: pair.a.server },
      { label: 'B', server: pair.b.server },
    ],
    store,
    stop: () => stopReplicas(pair),
  };
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) out[i] = await task(i);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return out;
}

export async function runLoad(
  setup: LoadSetup,
  dir: string,
  cluster: PgCluster,
  plan: ReplicasPlan,
  log: (line: string) => void,
): Promise<LoadReport> {
  const { members, store, stop } = await setupServers(setup, join(dir, setup), cluster);
  const edges: RoamingSimEdge[] = [];
  const pids = members.map((m) => ({ label: m.label, pid: m.server.pid }));
  const sample = (): Promise<ConnectionSample> => sampleConnections(store!, cluster.port, pids);
  try {
    await sleep(plan.warmSeconds * 1000);
    const idle = store === null ? null : await sample();
    // Edge i goes to member floor(i * members / edges): the first half to A, the second to B.
    const memberOf = (i: number): Member => members[Math.floor((i * members.length) / plan.loadEdges)]!;
    const enrollStarted = performance.now();
    const enrolled = await pool(plan.loadEdges, plan.concurrency, (i) =>
      RoamingSimEdge.enroll(memberOf(i).server.api, `load-${String(i + 1).padStart(4, '0')}`),
    );
    edges.push(...enrolled);
    const enrollSeconds = (performance.now() - enrollStarted) / 1000;
    log(
      `load ${setup}: ${plan.loadEdges} simulated edges enrolled and connected in ${enrollSeconds.toFixed(1)} s`,
    );

    const pushLoad: { samples: ConnectionSample[] } = { samples: [] };
    const poller = store === null ? null : pollConnections(store, cluster.port, pids, plan.pgPollMs);
    const samples: number[] = [];
    const fillStarted = performance.now();
    let filled = { lateAcks: 0, storeUnavailable: 0 };
    try {
      filled = await fillRules(
        (i) => memberOf(i).server.api,
        plan.loadEdges,
        plan.concurrency,
        (i) => ({ edge: edges[i]!.credentials.name, rule: benchRule('r0', 20_000) }),
        undefined,
        (ms) => samples.push(ms),
      );
    } finally {
      const polled = await poller?.stop();
      if (polled !== undefined) pushLoad.samples = polled;
    }
    await waitAllActive(members[0]!.server.api, null, plan.loadEdges);
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    log(
      `load ${setup}: one rule on each edge in ${fillSeconds.toFixed(1)} s; ${plan.warmSeconds} s, then ${plan.settleSeconds} s of CPU`,
    );
    await sleep(plan.warmSeconds * 1000);
    const before = members.map((m) => sampleTreeCpu(m.server.pid));
    await sleep(plan.settleSeconds * 1000);
    const after = members.map((m) => sampleTreeCpu(m.server.pid));
    const servers: ServerLoad[] = members.map((m, k) => {
      const from = before[k];
      const to = after[k];
      const window = from && to ? cpuWindow(from, to) : null;
      const rss = rssKiB(m.server.pid);
      if (window === null || rss === null) {
        throw new Error(
          `${m.server.proc.process.name} (pid ${m.server.pid}) is gone\n${m.server.proc.process.describe()}`,
        );
      }
      return {
        label: m.label,
        edges: edges.filter((_, i) => memberOf(i) === m).length,
        cpu: window,
        rssKiB: rss,
      };
    });
    const settled = store === null ? null : await sample();
    const lost = edges.find((edge) => !edge.connected || edge.sessions.length !== 1);
    if (lost !== undefined) {
      throw BENCH_ERRORS.error('timeout', {
        ms: plan.settleSeconds * 1000,
        what: `edge ${lost.credentials.name} to keep its one session`,
      });
    }
    const listed = await members[0]!.server.api.edges();
    const rules = await members[0]!.server.api.rules();
    return {
      setup,
      edges: plan.loadEdges,
      simulatedEdges: true,
      servers,
      cpuSeconds: servers.reduce((t, s) => t + s.cpu.userSeconds + s.cpu.systemSeconds, 0),
      rssKiB: servers.reduce((t, s) => t + s.rssKiB, 0),
      enrollSeconds: Math.round(enrollSeconds * 1000) / 1000,
      fill: {
        seconds: Math.round(fillSeconds * 1000) / 1000,
        latency: summarizeLatency(samples)!,
        ...filled,
      },
      connections:
        idle === null || settled === null
          ? null
          : {
              idle,
              underPushLoad: peakConnections(pushLoad.samples),
              pushLoadSamples: pushLoad.samples.length,
              settled,
            },
      check: {
        edgesConnected: listed.filter((edge) => edge.connected).length,
        rulesActive: rules.filter((rule) => rule.state === 'active').length,
      },
    };
  } finally {
    await Promise.all(edges.map((edge) => edge.close()));
    await stop();
  }
}
