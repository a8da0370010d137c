// The replicas measurements in order, in one run: (1) push latency through A and B, then (2)
// failovers and (3) the replay after one, on one replica pair (one database); the SQLite
// baseline of (1); then (4)/(5) on fresh processes for each set-up. A part that fails is recorded
// in `errors`; the others still run.

import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PgCluster } from '@sluice/test-kit';
import { machineInfo } from '../machine-info.ts';
import { makeTempDir } from '../temp-dir.ts';
import { type LoadReport, type LoadSetup, runLoad } from './load.ts';
import type { ReplicasPlan } from './plan.ts';
import {
  type FailoverReport,
  failovers,
  type PushLatencyReport,
  replicaPushes,
  sqlitePushes,
} from './real-edges.ts';
import { type ReplayAfterFailoverReport, replayAfterFailover } from './replay.ts';
import {
  createDatabase,
  type ReplicaPair,
  restartReplica,
  startBenchPgCluster,
  startReplicaPair,
  stopReplicas,
} from './replica-processes.ts';
import { REPLICAS_REPORT_VERSION, type ReplicasReport } from './report.ts';

const loads = (): number[] => loadavg().map((v) => Math.round(v * 100) / 100);

async function postgresVersion(cluster: PgCluster): Promise<string | null> {
  try {
    const { stdout } = await promisify(execFile)('psql', [cluster.url, '-XAtqc', 'SHOW server_version']);
    return `PostgreSQL ${stdout.trim().split(' ')[0]}`;
  } catch {
    return null;
  }
}

export async function runReplicas(plan: ReplicasPlan, log: (line: string) => void): Promise<ReplicasReport> {
  const startedAt = new Date().toISOString();
  const start = loads();
  const machine = machineInfo();
  log(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; load average ${start.join(' ')}`);
  const errors: { part: string; message: string }[] = [];
  const attempt = async <T>(part: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      errors.push({ part, message });
      log(`${part} failed: ${message}`);
      return null;
    }
  };

  const dir = makeTempDir('replicas');
  const cluster = await startBenchPgCluster();
  const postgres = await postgresVersion(cluster);
  log(`${postgres ?? 'PostgreSQL'} on 127.0.0.1:${cluster.port}`);
  let pushLatency: PushLatencyReport | null = null;
  let failover: FailoverReport | null = null;
  let replay: ReplayAfterFailoverReport | null = null;
  const load: LoadReport[] = [];
  try {
    let pair: ReplicaPair | null = null;
    try {
      pair = await startReplicaPair(join(dir.path, 'pair'), await createDatabase(cluster, 'pair'));
      const started = pair;
      log(`replicas A (pid ${pair.a.server.pid}) and B (pid ${pair.b.server.pid}) ready`);
      const replicated = await attempt('push latency', () => replicaPushes(started, dir.path, plan, log));
      failover = await attempt('failover', () => failovers(started, dir.path, plan, log));
      // The baseline while A's heartbeat row dies (restartReplica waits for that).
      const sqlite = await attempt('push latency (SQLite)', () => sqlitePushes(dir.path, plan, log));
      if (!started.a.server.proc.process.running) await restartReplica(started.a, started);
      replay = await attempt('replay after failover', () => replayAfterFailover(started, plan, log));
      if (replicated !== null) pushLatency = { ...replicated, sqlite };
    } catch (err) {
      errors.push({ part: 'replica pair', message: err instanceof Error ? err.message : String(err) });
    } finally {
      await stopReplicas(pair);
    }
    for (const setup of ['sqlite', 'one-replica', 'two-replicas'] as const satisfies readonly LoadSetup[]) {
      const measured = await attempt(`load (${setup})`, () => runLoad(setup, dir.path, cluster, plan, log));
      if (measured !== null) {
        load.push(measured);
        log(
          `load ${setup}: CPU ${measured.cpuSeconds.toFixed(2)} s over ${plan.settleSeconds} s, RSS ${(measured.rssKiB / 1024).toFixed(1)} MiB`,
        );
      }
    }
  } finally {
    await cluster.stop();
    dir.remove();
  }
  return {
    kind: 'replicas',
    formatVersion: REPLICAS_REPORT_VERSION,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    postgres,
    loadAverage: { start, end: loads() },
    plan,
    pushLatency,
    failover,
    replay,
    load,
    errors,
  };
}
