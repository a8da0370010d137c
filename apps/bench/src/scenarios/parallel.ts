// Parallel flows: iperf3 -P N (8) unlimited through each contender, so a relay with several
// shards or workers can use them; the received total over all streams.

import type { Iperf3TcpResult } from '@sluice/iperf3';
import { type MatrixResult, runMatrix } from './matrix.ts';
import type { ScenarioContext } from './scenario.ts';
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
