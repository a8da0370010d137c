// The three control-plane measurements in order, each on its own fresh sluice-server: (a) and (b)
// with one real edge, then (c) with simulated edges (so the real edge's processes are gone when
// the server's memory is read). A part that fails is recorded in `errors`; the others still run.

import { loadavg } from 'node:os';
import { machineInfo } from '../machine-info.ts';
import type { ControlPlanePlan } from './plan.ts';
import { runRealEdge } from './real-edge.ts';
import { CONTROL_PLANE_REPORT_VERSION, type ControlPlaneReport } from './report.ts';
import { runServerMemory } from './server-memory.ts';

const loads = (): number[] => loadavg().map((v) => Math.round(v * 100) / 100);

export async function runControlPlane(
  plan: ControlPlanePlan,
  log: (line: string) => void,
): Promise<ControlPlaneReport> {
  const startedAt = new Date().toISOString();
  const start = loads();
  const machine = machineInfo();
  log(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; load average ${start.join(' ')}`);
  const errors: { part: string; message: string }[] = [];
  const failed = (part: string, err: unknown): void => {
    const message = err instanceof Error ? err.message : String(err);
    errors.push({ part, message });
    log(`${part} failed: ${message}`);
  };

  let realEdge: Awaited<ReturnType<typeof runRealEdge>> | null = null;
  try {
    realEdge = await runRealEdge(plan, log);
    if (realEdge.replayError !== null) errors.push({ part: 'replay', message: realEdge.replayError });
  } catch (err) {
    failed('push latency', err);
  }
  let serverMemory: ControlPlaneReport['serverMemory'] = null;
  try {
    serverMemory = await runServerMemory(plan, log);
    log(
      `server memory: RSS idle ${(serverMemory.idle.rssKiB / 1024).toFixed(1)} MiB, with ${plan.edges} edges and ${plan.rules} rules ${(serverMemory.settled.rssKiB / 1024).toFixed(1)} MiB`,
    );
  } catch (err) {
    failed('server memory', err);
  }
  return {
    kind: 'control-plane',
    formatVersion: CONTROL_PLANE_REPORT_VERSION,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    loadAverage: { start, end: loads() },
    plan,
    pushLatency: realEdge?.push ?? null,
    replay: realEdge?.replay ?? null,
    serverMemory,
    errors,
  };
}
