// The processes `./run chaos` runs and kills: a throwaway PostgreSQL cluster (or none, on
// SQLite), one sluice-server, one managed sluice-edge with two shards (its test hooks on, so that
// a shard can be made to die of an uncaught exception: a thread cannot be sent SIGKILL), and an
// echo target. Each can be killed and started again where it was: the server on its data dir,
// store and ports; the edge on its bundle (it resumes from its saved rules file); PostgreSQL on
// its cluster.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PgCluster, ServeListenPorts } from '@sluice/test-kit';
import type { LoggedProcess } from '../control-plane/logged-process.ts';
import { PortSource } from '../control-plane/plan.ts';
import {
  childEnv,
  enrollRealEdge,
  type RunningServer,
  spawnRealEdge,
  startServer,
} from '../control-plane/processes.ts';
import { readEdgeJson } from '../edge-json.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { listeningLine, type ManagedProcess, spawnReady } from '../managed-process.ts';
import { freePorts } from '../ports.ts';
import { createDatabase, startBenchPgCluster } from '../replicas/replica-processes.ts';
import { NODE_BIN } from '../repo-paths.ts';
import { makeTempDir, type TempDir } from '../temp-dir.ts';
import type { ChaosPlan, Victim } from './chaos-plan.ts';

const EDGE_NAME = 'chaos-edge';
const SHARDS = 2;
/** A SIGKILLed server's heartbeat row counts as live this long (see replicas/replica-processes.ts). */
const PG_SERVER_RESTART_WAIT_MS = 7_000;

/** What the edge's /metrics?format=json tells the chaos run. */
export interface EdgeView {
  readonly pid: number;
  readonly shardsRunning: number;
  readonly activeRules: number;
  /** connections_total per rule name, for the check that counters never go backwards. */
  readonly connectionsTotal: Readonly<Record<string, number>>;
}

export class ChaosCluster {
  readonly plan: ChaosPlan;
  readonly dir: TempDir;
  readonly ruleIds: string[] = [];
  readonly rulePorts: number[] = [];
  readonly edgeMetricsPort: number;
  server!: RunningServer;
  edge!: LoggedProcess;
  readonly #pg: PgCluster | null;
  readonly #store: string | undefined;
  readonly #serverPorts: ServeListenPorts;
  readonly #bundle: string;
  #echo!: ManagedProcess;

  private constructor(
    plan: ChaosPlan,
    dir: TempDir,
    pg: PgCluster | null,
    store: string | undefined,
    ports: ServeListenPorts,
    edgeMetricsPort: number,
  ) {
    this.plan = plan;
    this.dir = dir;
    this.#pg = pg;
    this.#store = store;
    this.#serverPorts = ports;
    this.edgeMetricsPort = edgeMetricsPort;
    this.#bundle = join(dir.path, 'edge.bundle');
  }

  static async start(plan: ChaosPlan, log: (line: string) => void): Promise<ChaosCluster> {
    const dir = makeTempDir('chaos');
    const pg = plan.store === 'postgres' ? await startBenchPgCluster() : null;
    const store = pg === null ? undefined : await createDatabase(pg, 'chaos');
    const [control, api, metrics, edgeMetrics, echoPort] = await freePorts(5);
    const cluster = new ChaosCluster(
      plan,
      dir,
      pg,
      store,
      { control: control!, api: api!, metrics: metrics! },
      edgeMetrics!,
    );
    cluster.#echo = await spawnReady({
      name: 'echo target',
      command: NODE_BIN,
      args: [join(import.meta.dirname, '..', 'processes', 'echo-server.ts'), String(echoPort)],
      ready: listeningLine,
      failure: (reason) => BENCH_ERRORS.error('target_failed', { target: 'echo', reason }),
    });
    cluster.server = await startServer(join(dir.path, 'server'), {
      ...(store === undefined ? {} : { store }),
      ports: cluster.#serverPorts,
    });
    log(`server ready on ${plan.store}; enrolling the edge`);
    const enrollment = await cluster.server.api.enroll(EDGE_NAME);
    await enrollRealEdge(enrollment.uri, cluster.#bundle);
    cluster.#spawnEdge();
    await cluster.#edgeConnected();
    log(`edge ${EDGE_NAME} connected; pushing ${plan.rules} rules`);
    const ports = new PortSource();
    for (let i = 0; i < plan.rules; i++) {
      const port = ports.next();
      const response = await cluster.server.api.pushRule(EDGE_NAME, {
        name: `chaos-${i}`,
        listen: `127.0.0.1:${port}`,
        targets: [`127.0.0.1:${echoPort}`],
      });
      if (response.status !== 201) {
        throw BENCH_ERRORS.error('contender_start_failed', {
          contender: 'the chaos rules',
          reason: `POST /v1/rules answered ${response.status}: ${response.text.slice(0, 300)}`,
        });
      }
      cluster.ruleIds.push(response.body.id);
      cluster.rulePorts.push(port);
    }
    return cluster;
  }

  #spawnEdge(): void {
    this.edge = spawnRealEdge(this.#bundle, SHARDS, this.edgeMetricsPort, undefined, {
      ...childEnv(),
      SLUICE_TEST_HOOKS: '1',
    });
  }

  async #edgeConnected(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await this.server.api.edge(EDGE_NAME)).connected) {
      if (Date.now() > deadline) {
        throw BENCH_ERRORS.error('timeout', {
          ms: 30_000,
          what: `the edge's first control session\n${this.edge.process.describe()}`,
        });
      }
      await sleep(200);
    }
  }

  /** The edge as its own metrics show it, or null while it does not answer. */
  async edgeView(): Promise<EdgeView | null> {
    const body = await readEdgeJson(this.edgeMetricsPort, 5000);
    if (body === null) return null;
    return {
      pid: this.edge.pid,
      shardsRunning: body.shards.running,
      activeRules: body.rules.filter((rule) => rule.state === 'active').length,
      connectionsTotal: Object.fromEntries(body.rules.map((rule) => [rule.name, rule.connections_total])),
    };
  }

  /**
   * Whether everything is back: the server answers with every rule active and the edge connected,
   * and the edge runs every shard with every rule active. Null when so, else what is missing.
   */
  async missing(): Promise<string | null> {
    const edge = await this.edgeView();
    if (edge === null) return 'the edge does not answer';
    if (edge.shardsRunning < SHARDS) return `the edge runs ${edge.shardsRunning} of ${SHARDS} shards`;
    if (edge.activeRules < this.plan.rules)
      return `the edge has ${edge.activeRules} of ${this.plan.rules} rules active`;
    try {
      const rules = await this.server.api.rules(EDGE_NAME);
      const active = rules.filter((rule) => this.ruleIds.includes(rule.id) && rule.state === 'active').length;
      if (active < this.plan.rules) return `the server lists ${active} of ${this.plan.rules} rules active`;
      const view = await this.server.api.edge(EDGE_NAME);
      if (!view.connected) return 'the server does not see the edge connected';
    } catch (err) {
      return `the server's API: ${err instanceof Error ? err.message : String(err)}`;
    }
    return null;
  }

  /** Kills one victim; for the processes, starts them again. Resolves once the restart is under way. */
  async kill(victim: Victim, random: () => number): Promise<string> {
    switch (victim) {
      case 'shard': {
        const shard = Math.floor(random() * SHARDS);
        const response = await fetch(`http://127.0.0.1:${this.edgeMetricsPort}/debug/shards/${shard}/crash`, {
          method: 'POST',
          signal: AbortSignal.timeout(5000),
        });
        return `shard ${shard} (${response.status === 202 ? 'crashed' : `crash refused: ${response.status}`})`;
      }
      case 'edge': {
        const pid = this.edge.pid;
        this.edge.process.child.kill('SIGKILL');
        await this.edge.process.exited;
        this.#spawnEdge();
        return `edge pid ${pid}`;
      }
      case 'server': {
        const pid = this.server.pid;
        this.server.proc.process.child.kill('SIGKILL');
        await this.server.proc.process.exited;
        if (this.#pg !== null) await sleep(PG_SERVER_RESTART_WAIT_MS);
        this.server = await startServer(this.server.dataDir, {
          ...(this.#store === undefined ? {} : { store: this.#store }),
          ports: this.#serverPorts,
          adminToken: this.server.adminToken,
        });
        return `server pid ${pid}`;
      }
      case 'postgres': {
        const pg = this.#pg!;
        const pid = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
        process.kill(pid, 'SIGKILL');
        await this.#restartPostgres(pg);
        return `postgres postmaster pid ${pid}`;
      }
    }
  }

  /** The postmaster's children leave once they see it gone; until then the shared memory is theirs. */
  async #restartPostgres(pg: PgCluster): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await pg.resume();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(500);
      }
    }
  }

  async stop(): Promise<void> {
    await this.edge.process.stop('SIGTERM', 10_000);
    await this.server.proc.process.stop('SIGTERM', 10_000);
    await this.#echo.stop();
    await this.#pg?.stop();
    this.dir.remove();
  }
}
