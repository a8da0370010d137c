// Offered-load sweep: one TCP flow (iperf3 --bitrate B) through each contender, for each B in
// the plan (100M .. 20G and unlimited). Below the host's ceiling every contender should carry
// what is offered; the interesting part is where each one stops keeping up.

import { formatBitrate, type Iperf3TcpResult } from '@sluice/iperf3';
import type { Chart } from '../charts/chart-specs.ts';
import { type ThroughputPoint, throughputChart, throughputChartLine } from '../charts/throughput-chart.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { iperf3Through } from './iperf3-through.ts';
import { cell, contendersOf, DASH, failedCell, fixed, matrixNotes, table } from './markdown-table.ts';
import { type MatrixResult, matrixFailed, runMatrix } from './matrix.ts';
import type { ScenarioContext } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';

const G = 1e9;
const M = 1e6;

export interface SweepPlan {
  /** iperf3 --bitrate per point, bits per second; 0 is unlimited. */
  readonly sweepBitrates: readonly number[];
}

const SWEEP_PLAN: PlanParts<SweepPlan> = {
  full: { sweepBitrates: [100 * M, 1 * G, 2.5 * G, 5 * G, 10 * G, 15 * G, 20 * G, 0] },
  quick: { sweepBitrates: [1 * G, 10 * G, 0] },
};

export const SWEEP_METRICS = ['bitsPerSecond', 'retransmits'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

export interface SweepOptions {
  readonly seconds: number;
  readonly repeats: number;
  /** Bits per second per point; 0 is unlimited. */
  readonly bitrates: readonly number[];
}

/**
 * `point` is the offered load in bits per second (0: unlimited); metrics: `bitsPerSecond`
 * (received, iperf3 end.sum_received) and `retransmits` (sender); detail: iperf3's report.
 */
export interface SweepReport extends MatrixResult<number, SweepMetric, Iperf3TcpResult> {
  readonly seconds: number;
  readonly repeats: number;
  /** Always 1: one TCP flow. */
  readonly streams: number;
}

export const bitrateLabel = (bitsPerSecond: number): string => formatBitrate(bitsPerSecond);

export function formatGbits(bitsPerSecond: number): string {
  return (bitsPerSecond / 1e9).toFixed(2);
}

export async function tcpRun(
  contender: Parameters<typeof iperf3Through>[0],
  seconds: number,
  bitrate: number,
  parallel: number,
): Promise<{ metrics: Record<SweepMetric, number>; detail: Iperf3TcpResult }> {
  const result = await iperf3Through(contender, { seconds, bitrate, parallel });
  if (result.protocol !== 'tcp') {
    throw BENCH_ERRORS.error('load_failed', {
      scenario: 'sweep',
      contender: contender.id,
      reason: 'not a TCP report',
    });
  }
  return {
    metrics: { bitsPerSecond: result.receivedBitsPerSecond, retransmits: result.retransmits ?? 0 },
    detail: result,
  };
}

export async function runSweep(
  ctx: ScenarioContext,
  options: SweepOptions,
  scenario: 'sweep' | 'throughput' = 'sweep',
): Promise<SweepReport> {
  const result = await runMatrix(ctx, {
    scenario,
    metrics: SWEEP_METRICS,
    points: options.bitrates,
    pointLabel: bitrateLabel,
    repeats: options.repeats,
    secondsPerRun: options.seconds,
    run: (contender, bitrate) => tcpRun(contender, options.seconds, bitrate, 1),
    describe: (m) => `${formatGbits(m.bitsPerSecond)} Gbit/s, ${m.retransmits} retransmits`,
  });
  return { ...result, seconds: options.seconds, repeats: options.repeats, streams: 1 };
}

function sweepMarkdown(s: SweepReport, notes: string[]): string[] {
  // One point is the single flow, whose table is the throughput scenario's.
  if (s.points.length <= 1) return [];
  const header = [
    'contender',
    ...s.points.map((p) => s.rows.find((r) => r.point === p)?.pointLabel ?? String(p)),
  ];
  const last = s.points.at(-1);
  header.push(`× direct (${header.at(-1)})`, `× REDIRECT (${header.at(-1)})`);
  const rows = contendersOf(s.rows).map((c) => {
    const cells = s.points.map((p) => {
      const row = s.rows.find((r) => r.contender === c.id && r.point === p);
      if (row === undefined) return DASH;
      return row.summary.bitsPerSecond === null ? failedCell(row) : cell(row.summary.bitsPerSecond, 2, 1e9);
    });
    const end = s.rows.find((r) => r.contender === c.id && r.point === last);
    return [
      c.label,
      ...cells,
      fixed(end?.vsDirect.bitsPerSecond, 2),
      fixed(end?.vsRedirect.bitsPerSecond, 2),
    ];
  });
  // The unlimited point's failures are noted under the single-flow table.
  matrixNotes(
    'sweep',
    s.rows.filter((r) => r.point !== 0),
    s.notApplicable,
    notes,
  );
  return [
    `### Offered-load sweep: one TCP flow, iperf3 --bitrate, received Gbit/s, ${s.seconds} s, median of ${s.repeats}`,
    '',
    ...table(header, rows),
  ];
}

/** Throughput against the offered load, when the sweep measured more than one. */
function sweepCharts(s: SweepReport, where: string): Chart[] {
  if (s.points.length <= 1) return [];
  const points: ThroughputPoint[] = s.rows.flatMap((row) => {
    const summary = row.summary.bitsPerSecond;
    if (summary === null) return [];
    const offeredBitsPerSecond = row.point === 0 ? null : row.point;
    return [{ contender: row.contender, label: row.label, offeredBitsPerSecond, summary }];
  });
  return points.length === 0 ? [] : [throughputChart(points, [throughputChartLine(s), where])];
}

export const sweepScenario = defineScenario({
  id: 'sweep',
  reportKey: 'sweep',
  plan: SWEEP_PLAN,
  usesIperf3: true,
  appliesTo: () => true,
  pointsPerRepeat: (plan) => plan.sweepBitrates.length,
  secondsPerRun: (plan) => plan.seconds,
  run: (ctx, plan, wants) => {
    // The sweep's unlimited point is the throughput figure: the sweep runs it when either is asked.
    const bitrates =
      wants('throughput') && !plan.sweepBitrates.includes(0)
        ? [...plan.sweepBitrates, 0]
        : plan.sweepBitrates;
    return runSweep(ctx, { seconds: plan.seconds, repeats: plan.repeats, bitrates });
  },
  markdown: sweepMarkdown,
  charts: sweepCharts,
  failed: matrixFailed,
});
