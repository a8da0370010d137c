// `./run soak`: a standalone edge (2 shards, one TCP and one UDP rule to echo targets) under the
// soak plan's phases, sampled once a second:
//   1. baseline: the idle edge;
//   2. hold: `concurrent` connections opened and proven with one echo each, held, then each used
//      once more and closed;
//   3. churn: `churn` transfers, `lanes` at a time, every one checked by length and every
//      `sampleEvery`th (a large one) by sha256;
//   4. udp: `flows` flows, each its own client socket, echoed;
//   5. settle: until the edge is back at its baseline of descriptors, pipes, connections and
//      flows (or `settleSeconds` pass).
// The edge, the targets and the client are separate processes; this one only drives and watches.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { edgeEnv, edgeReady } from '../contenders/sluice-edge.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { IpcPeer } from '../ipc-peer.ts';
import { listeningLine, type ManagedProcess, spawnReady } from '../managed-process.ts';
import { freePorts } from '../ports.ts';
import { EDGE, NODE_BIN, REPO_ROOT } from '../repo-paths.ts';
import { makeTempDir } from '../temp-dir.ts';
import { type EdgeSample, sampleEdge } from './edge-sample.ts';
import { isSoakReply, type SoakReply, type SoakRequest, type TransferTally } from './soak-messages.ts';
import { pooledPipeFds, SOAK_UDP_IDLE_SECS, type SoakPlan, soakMaxConnections } from './soak-plan.ts';

const PROCESSES = join(import.meta.dirname, '..', 'processes');
const CLIENT_SCRIPT = join(PROCESSES, 'soak-client.ts');
/** Long enough for a million transfers at a few hundred a second. */
const PHASE_TIMEOUT_MS = 4 * 3600_000;

export interface SoakPhase {
  readonly name: string;
  readonly seconds: number;
  readonly tally?: TransferTally;
}

export interface UdpResult {
  readonly flows: number;
  readonly sent: number;
  readonly received: number;
  readonly silentFlows: number;
}

export interface SoakResult {
  readonly plan: SoakPlan;
  readonly maxConnections: number;
  readonly startedAt: string;
  readonly baseline: EdgeSample;
  readonly after: EdgeSample;
  readonly phases: readonly SoakPhase[];
  readonly heldOpen: number;
  readonly udp: UdpResult;
  readonly samples: readonly EdgeSample[];
}

export function soakEdgeToml(plan: SoakPlan, maxConnections: number, ports: SoakPorts): string {
  return [
    'name = "sluice-soak"',
    `shards = ${plan.shards}`,
    `max_connections = ${maxConnections}`,
    `metrics = "127.0.0.1:${ports.metrics}"`,
    'drain_timeout_secs = 2',
    '',
    '[[rules]]',
    'name = "soak-tcp"',
    `listen = "127.0.0.1:${ports.tcpListen}"`,
    `targets = ["127.0.0.1:${ports.tcpTarget}"]`,
    '',
    '[[rules]]',
    'name = "soak-udp"',
    'protocol = "udp"',
    `listen = "127.0.0.1:${ports.udpListen}"`,
    `targets = ["127.0.0.1:${ports.udpTarget}"]`,
    `idle_timeout_secs = ${SOAK_UDP_IDLE_SECS}`,
    // The default (1024) would drop the flows past it: this run wants every flow carried.
    `max_flows = ${Math.max(1, plan.flows)}`,
    '',
  ].join('\n');
}

export interface SoakPorts {
  readonly tcpListen: number;
  readonly tcpTarget: number;
  readonly udpListen: number;
  readonly udpTarget: number;
  readonly metrics: number;
}

function helper(name: string, script: string, port: number): Promise<ManagedProcess> {
  return spawnReady({
    name,
    command: NODE_BIN,
    args: [join(PROCESSES, script), String(port)],
    ready: listeningLine,
    failure: (reason) => BENCH_ERRORS.error('target_failed', { target: name, reason }),
  });
}

/**
 * The edge is back where it started: no connection, no flow, and no descriptor more than at the
 * baseline except the pipes its shards' splice pools may keep for the next connections (at most
 * `pooledPipeFds`).
 */
export function atBaseline(sample: EdgeSample, baseline: EdgeSample, pooledPipeFds: number): boolean {
  const pipesKept = Math.max(0, sample.pipes - baseline.pipes);
  return (
    sample.connections === 0 &&
    sample.flows === 0 &&
    pipesKept <= pooledPipeFds &&
    sample.fds <= baseline.fds + pipesKept
  );
}

export async function runSoak(plan: SoakPlan, log: (line: string) => void): Promise<SoakResult> {
  const maxConnections = soakMaxConnections(plan);
  const [tcpListen, tcpTarget, udpListen, udpTarget, metrics] = await freePorts(5);
  const ports: SoakPorts = {
    tcpListen: tcpListen!,
    tcpTarget: tcpTarget!,
    udpListen: udpListen!,
    udpTarget: udpTarget!,
    metrics: metrics!,
  };
  const dir = makeTempDir('soak');
  const configFile = join(dir.path, 'edge.toml');
  writeFileSync(configFile, soakEdgeToml(plan, maxConnections, ports));
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const tcpEcho = await helper('tcp echo target', 'echo-server.ts', ports.tcpTarget);
  const udpEcho = await helper('udp echo target', 'udp-echo-server.ts', ports.udpTarget);
  const edge = await spawnReady({
    name: 'sluice-edge',
    command: NODE_BIN,
    args: [...EDGE.args, '--config', configFile],
    cwd: REPO_ROOT,
    env: edgeEnv(plan.relay),
    ready: (proc) => edgeReady(proc, plan.relay),
    failure: (reason) => BENCH_ERRORS.error('contender_start_failed', { contender: 'sluice-edge', reason }),
    undo: dir.remove,
  });
  const client = new IpcPeer<SoakRequest, SoakReply>('soak client', NODE_BIN, CLIENT_SCRIPT, [], isSoakReply);
  const samples: EdgeSample[] = [];
  let phase = 'baseline';
  let clientDone = 0;
  let phaseStarted = Date.now();
  client.process.child.on('message', (message: unknown) => {
    if (isSoakReply(message) && message.type === 'progress') clientDone = message.done;
  });
  const sample = async (): Promise<EdgeSample> => {
    const s = await sampleEdge(edge.pid, ports.metrics, (Date.now() - started) / 1000, phase, clientDone);
    samples.push(s);
    return s;
  };
  let sampling = false;
  const ticker = setInterval(() => {
    if (sampling) return;
    sampling = true;
    void sample()
      .then((s) => {
        if (samples.length % 10 === 0) {
          log(
            `${s.phase}: ${s.clientDone} done, edge ${s.connections} connections, ${s.flows} flows, ${s.fds} fds (${s.pipes} pipes), RSS ${s.rssMiB.toFixed(1)} MiB`,
          );
        }
      })
      .catch(() => {})
      .finally(() => {
        sampling = false;
      });
  }, 1000);
  const phases: SoakPhase[] = [];
  const enter = (name: string): void => {
    phase = name;
    clientDone = 0;
    phaseStarted = Date.now();
  };
  const leave = (tally?: TransferTally): void => {
    phases.push({ name: phase, seconds: (Date.now() - phaseStarted) / 1000, ...(tally ? { tally } : {}) });
  };
  try {
    await sleep(2000);
    const baseline = await sample();
    log(`baseline: ${baseline.fds} fds (${baseline.pipes} pipes), RSS ${baseline.rssMiB.toFixed(1)} MiB`);

    enter('hold');
    const held = await client.next('held', PHASE_TIMEOUT_MS, {
      type: 'hold',
      port: ports.tcpListen,
      count: plan.concurrent,
      concurrency: plan.lanes,
    });
    log(`hold: ${held.open} of ${plan.concurrent} connections open`);
    const peak = await sample();
    log(
      `hold: edge holds ${peak.connections} connections, ${peak.fds} fds, RSS ${peak.rssMiB.toFixed(1)} MiB`,
    );
    await sleep(plan.holdSeconds * 1000);
    leave(held.tally);

    enter('release');
    const released = await client.next('released', PHASE_TIMEOUT_MS, { type: 'release' });
    leave(released.tally);

    enter('churn');
    const churned = await client.next('churned', PHASE_TIMEOUT_MS, {
      type: 'churn',
      port: ports.tcpListen,
      total: plan.churn,
      concurrency: plan.lanes,
      sampleEvery: plan.sampleEvery,
    });
    leave(churned.tally);

    enter('udp');
    const udp = await client.next('udp-done', PHASE_TIMEOUT_MS, {
      type: 'udp',
      port: ports.udpListen,
      flows: plan.flows,
      datagrams: plan.datagramsPerFlow,
    });
    leave();

    enter('settle');
    let after = await sample();
    const settleBy = Date.now() + plan.settleSeconds * 1000;
    while (!atBaseline(after, baseline, pooledPipeFds(plan)) && Date.now() < settleBy) {
      await sleep(500);
      after = await sample();
    }
    leave();
    return {
      plan,
      maxConnections,
      startedAt,
      baseline,
      after,
      phases,
      heldOpen: held.open,
      udp: { flows: udp.flows, sent: udp.sent, received: udp.received, silentFlows: udp.silentFlows },
      samples,
    };
  } finally {
    clearInterval(ticker);
    await client.stop();
    await edge.stop('SIGTERM', 10_000);
    await Promise.all([tcpEcho.stop(), udpEcho.stop()]);
    dir.remove();
  }
}
