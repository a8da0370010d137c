// A small bench report for the tests of what reads reports (gates, charts, RESULTS.md): two
// throughput rows (one failed), idle memory at 1000 and 4000, HAProxy skipped.

import type { BenchReport } from './report.ts';
import type { IdleMemoryRow } from './scenarios/idle-memory.ts';
import { QUICK_PLAN } from './scenarios/plan.ts';

export const idleRow = (contender: string, perConnectionKiB: number | null): IdleMemoryRow => ({
  contender,
  label: contender,
  connections: 4000,
  pids: [],
  pssBeforeKiB: null,
  pssAfterKiB: null,
  rssBeforeKiB: null,
  rssAfterKiB: null,
  rssAfterSamplesKiB: [],
  perConnectionKiB,
  summary:
    perConnectionKiB === null
      ? null
      : { n: 1, median: perConnectionKiB, min: perConnectionKiB, max: perConnectionKiB },
  vsHaproxy: null,
  error: null,
  runErrors: [],
});

/** A small quick-run report; `overrides` replace whole fields. */
export function sampleReport(overrides: Partial<BenchReport> = {}): BenchReport {
  return {
    formatVersion: 2,
    startedAt: '2026-11-23T12:00:00.000Z',
    finishedAt: '2026-11-23T12:01:00.000Z',
    machine: {
      hostname: 'h',
      cpuModel: 'cpu',
      cores: 2,
      memoryMiB: 1024,
      kernel: '6.1.0',
      kernelVersion: '#1',
      node: 'v24.0.0',
      iperf3: null,
      haproxy: null,
      iptables: null,
      nginx: null,
      socat: null,
      commit: null,
    },
    options: {
      quick: true,
      scenarios: ['throughput', 'idle-memory'],
      contenders: ['c-splice', 'sluice-splice-1', 'haproxy'],
      seconds: 3,
      repeats: 1,
      plan: QUICK_PLAN,
    },
    contenders: [
      { id: 'c-splice', label: 'C', relay: 'user-space', description: '', skipped: null },
      { id: 'sluice-splice-1', label: 'S', relay: 'user-space', description: '', skipped: null },
      {
        id: 'haproxy',
        label: 'H',
        relay: 'user-space',
        description: '',
        skipped: 'haproxy is not installed',
      },
    ],
    scenarioSeconds: {},
    throughput: {
      seconds: 3,
      repeats: 1,
      rows: [
        {
          contender: 'c-splice',
          label: 'C',
          runs: [{ repeat: 1, bitsPerSecond: 20e9, iperf3: null, error: null }],
          summary: { n: 1, median: 20e9, min: 20e9, max: 20e9 },
          vsDirect: null,
          vsRedirect: null,
        },
        {
          contender: 'sluice-splice-1',
          label: 'S',
          runs: [
            {
              repeat: 1,
              bitsPerSecond: null,
              iperf3: null,
              error: { code: 'contender_start_failed', message: 'sluice-splice-1 did not start: boom\nmore' },
            },
          ],
          summary: null,
          vsDirect: null,
          vsRedirect: null,
        },
      ],
    },
    sweep: null,
    parallel: null,
    udp: null,
    smallMessages: null,
    http: null,
    connectRate: null,
    idleMemory: {
      connections: 4000,
      rows: [idleRow('sluice-splice-1', 2)],
      byCount: [
        {
          count: { requested: 1000, connections: 1000, capped: null },
          rows: [idleRow('sluice-splice-1', 2.5)],
        },
        {
          count: { requested: 4000, connections: 4000, capped: null },
          rows: [idleRow('sluice-splice-1', 2)],
        },
      ],
      repeats: 1,
      fileLimit: null,
      cap: null,
      notMeasured: [{ contender: 'c-splice', reason: 'a throughput ceiling only' }],
      runs: {},
    },
    edgeMemory: null,
    qosCap: null,
    ...overrides,
  };
}
