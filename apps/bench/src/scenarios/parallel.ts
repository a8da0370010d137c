// Parallel flows: iperf3 -P N (8) unlimited through each contender, so a relay with several
// shards or workers can use them; the received total over all streams.

import type { Iperf3TcpResult } from '@sluice/iperf3';
import { cell, DASH, failedCell, matrixNotes, ratioCells, table } from './markdown-table.ts';
import { type MatrixResult, matrixFailed, runMatrix } from './matrix.ts';
import type { ScenarioContext } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';
import { formatGbits, SWEEP_METRICS, type SweepMetric, tcpRun } from './sweep.ts';

export interface ParallelOptions {
  readonly seconds: number;
  readonly repeats: number;
  readonly streams: number;
}

/** `point` is the stream count; metrics as in the sweep (bitsPerSecond summed over streams). */
export interface ParallelReport extends MatrixResult<number, SweepMetric, Iperf3TcpResult> {
  readonly seconds: number;
  readonly repeats: number;
  readonly streams: number;
}

export async function runParallel(ctx: ScenarioContext, options: ParallelOptions): Promise<ParallelReport> {
  const result = await runMatrix(ctx, {
    scenario: 'parallel',
    metrics: SWEEP_METRICS,
    points: [options.streams],
    pointLabel: (streams) => `-P ${streams}`,
    repeats: options.repeats,
    secondsPerRun: options.seconds,
    run: (contender, streams) => tcpRun(contender, options.seconds, 0, streams),
    describe: (m) => `${formatGbits(m.bitsPerSecond)} Gbit/s, ${m.retransmits} retransmits`,
  });
  return { ...result, seconds: options.seconds, repeats: options.repeats, streams: options.streams };
}

function parallelMarkdown(p: ParallelReport, notes: string[]): string[] {
  const rows = p.rows.map((r) =>
    r.summary.bitsPerSecond === null
      ? [r.label, failedCell(r), DASH, DASH, DASH]
      : [
          r.label,
          cell(r.summary.bitsPerSecond, 2, 1e9),
          cell(r.summary.retransmits, 0),
          ...ratioCells(r, 'bitsPerSecond'),
        ],
  );
  matrixNotes('parallel', p.rows, p.notApplicable, notes);
  return [
    `### Parallel flows: iperf3 -P ${p.streams}, unlimited, ${p.seconds} s, median of ${p.repeats}`,
    '',
    ...table(['contender', 'Gbit/s', 'retransmits', '× direct', '× REDIRECT'], rows),
  ];
}

export interface ParallelPlan {
  /** iperf3 -P. */
  readonly parallelStreams: number;
}

const PARALLEL_PLAN: PlanParts<ParallelPlan> = {
  full: { parallelStreams: 8 },
  quick: { parallelStreams: 8 },
};

export const parallelScenario = defineScenario({
  id: 'parallel',
  reportKey: 'parallel',
  plan: PARALLEL_PLAN,
  usesIperf3: true,
  appliesTo: () => true,
  pointsPerRepeat: () => 1,
  secondsPerRun: (plan) => plan.seconds,
  run: (ctx, plan) =>
    runParallel(ctx, { seconds: plan.seconds, repeats: plan.repeats, streams: plan.parallelStreams }),
  markdown: parallelMarkdown,
  charts: () => [],
  failed: matrixFailed,
});
