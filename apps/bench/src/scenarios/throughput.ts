// Single-flow TCP throughput, unlimited: the sweep's last point, and the figure the gates read
// (splice over the C relay, JS over the naive pipe). When the sweep runs this is taken from its
// unlimited point; on its own (`--only throughput`) it is a sweep of that one point.

import type { Iperf3TcpResult } from '@sluice/iperf3';
import type { Contender } from '../contender.ts';
import type { RunError } from '../errors.ts';
import { ratio, type Summary, summarize } from '../stats.ts';
import type { ScenarioContext } from './scenario.ts';
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
