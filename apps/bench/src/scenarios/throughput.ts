// Single-flow TCP throughput, unlimited: the sweep's last point, and the figure the gates read
// (splice over the C relay, JS over the naive pipe). When the sweep runs this is taken from its
// unlimited point; on its own (`--only throughput`) it is a sweep of that one point.

import type { Iperf3TcpResult } from '@sluice/iperf3';
import type { Chart } from '../charts/chart-specs.ts';
import { type ThroughputPoint, throughputChart, throughputChartLine } from '../charts/throughput-chart.ts';
import type { Contender } from '../contender.ts';
import type { RunError } from '../errors.ts';
import { ratio, type Summary, summarize } from '../stats.ts';
import { DASH, firstLine, fixed, table } from './markdown-table.ts';
import type { ScenarioContext } from './scenario.ts';
import { defineScenario } from './scenario-definition.ts';
import { runSweep, type SweepReport } from './sweep.ts';

export interface ThroughputOptions {
  readonly seconds: number;
  readonly repeats: number;
}

export interface ThroughputRun {
  readonly repeat: number;
  /** Received bits per second (iperf3 end.sum_received), null when the run failed. */
  readonly bitsPerSecond: number | null;
  readonly iperf3: Iperf3TcpResult | null;
  readonly error: RunError | null;
}

export interface ThroughputRow {
  readonly contender: string;
  readonly label: string;
  readonly runs: readonly ThroughputRun[];
  /** Over the successful runs, in bits per second. */
  readonly summary: Summary | null;
  /** Median over the median of `direct` / of `redirect` in this same bench run. */
  readonly vsDirect: number | null;
  readonly vsRedirect: number | null;
}

export interface ThroughputReport {
  readonly seconds: number;
  readonly repeats: number;
  readonly rows: readonly ThroughputRow[];
}

/** Rows with medians, and ratios to the `direct` and `redirect` medians of the same runs. */
export function throughputRows(
  contenders: readonly Pick<Contender, 'id' | 'label'>[],
  runs: ReadonlyMap<string, readonly ThroughputRun[]>,
): ThroughputRow[] {
  const summaries = new Map<string, Summary | null>();
  for (const c of contenders) {
    const values = (runs.get(c.id) ?? []).flatMap((r) => (r.bitsPerSecond === null ? [] : [r.bitsPerSecond]));
    summaries.set(c.id, summarize(values));
  }
  const directMedian = summaries.get('direct')?.median;
  const redirectMedian = summaries.get('redirect')?.median;
  return contenders.map((c) => {
    const summary = summaries.get(c.id) ?? null;
    return {
      contender: c.id,
      label: c.label,
      runs: runs.get(c.id) ?? [],
      summary,
      vsDirect: ratio(summary?.median, directMedian),
      vsRedirect: ratio(summary?.median, redirectMedian),
    };
  });
}

/** The sweep's unlimited point as a throughput report; null when the sweep had no such point. */
export function throughputFromSweep(sweep: SweepReport): ThroughputReport | null {
  if (!sweep.points.includes(0)) return null;
  const unlimited = sweep.rows.filter((row) => row.point === 0);
  const runs = new Map<string, ThroughputRun[]>(
    unlimited.map((row) => [
      row.contender,
      row.runs.map((run) => ({
        repeat: run.repeat,
        bitsPerSecond: run.metrics?.bitsPerSecond ?? null,
        iperf3: run.detail,
        error: run.error,
      })),
    ]),
  );
  return {
    seconds: sweep.seconds,
    repeats: sweep.repeats,
    rows: throughputRows(
      unlimited.map((row) => ({ id: row.contender, label: row.label })),
      runs,
    ),
  };
}

/** `--only throughput`: the unlimited single flow alone. */
export async function runThroughput(
  ctx: ScenarioContext,
  options: ThroughputOptions,
): Promise<{ throughput: ThroughputReport; sweep: SweepReport }> {
  const sweep = await runSweep(ctx, { ...options, bitrates: [0] }, 'throughput');
  return { throughput: throughputFromSweep(sweep)!, sweep };
}

const gbits = (bitsPerSecond: number | null | undefined): string =>
  fixed(bitsPerSecond === null || bitsPerSecond === undefined ? null : bitsPerSecond / 1e9, 2);

function throughputMarkdown(t: ThroughputReport, notes: string[]): string[] {
  const rows = t.rows.map((row) => {
    const ok = row.runs.filter((r) => r.error === null).length;
    for (const run of row.runs) {
      if (run.error !== null) {
        notes.push(
          `throughput, ${row.contender}, run ${run.repeat}: ${run.error.code}: ${firstLine(run.error.message)}`,
        );
      }
    }
    if (row.summary === null) {
      const code = row.runs.find((r) => r.error !== null)?.error?.code ?? 'no runs';
      return [row.label, `failed (${code})`, DASH, DASH, DASH];
    }
    const partial = ok < row.runs.length ? ` (${ok}/${row.runs.length} runs)` : '';
    return [
      row.label,
      `${gbits(row.summary.median)}${partial}`,
      `${gbits(row.summary.min)} ${DASH} ${gbits(row.summary.max)}`,
      fixed(row.vsDirect, 2),
      fixed(row.vsRedirect, 2),
    ];
  });
  return [
    `### Single TCP flow: iperf3, ${t.seconds} s, median of ${t.repeats}`,
    '',
    ...table(['contender', 'Gbit/s', 'min – max', '× direct', '× REDIRECT'], rows),
  ];
}

/** One bar per contender; the sweep's chart (same id) replaces it when the sweep measured several loads. */
function throughputCharts(t: ThroughputReport, where: string): Chart[] {
  const points: ThroughputPoint[] = t.rows.flatMap((row) =>
    row.summary === null
      ? []
      : [{ contender: row.contender, label: row.label, offeredBitsPerSecond: null, summary: row.summary }],
  );
  return points.length === 0 ? [] : [throughputChart(points, [throughputChartLine(t), where])];
}

export const throughputScenario = defineScenario({
  id: 'throughput',
  reportKey: 'throughput',
  plan: { full: {}, quick: {} },
  usesIperf3: true,
  appliesTo: () => true,
  pointsPerRepeat: () => 1,
  secondsPerRun: (plan) => plan.seconds,
  run: async (ctx, plan) => (await runThroughput(ctx, plan)).throughput,
  coveredBy: { scenario: 'sweep', derive: (sweep: SweepReport) => throughputFromSweep(sweep) },
  markdown: throughputMarkdown,
  charts: throughputCharts,
  failed: (t) => t.rows.some((row) => row.runs.some((run) => run.error !== null)),
});
