// Offered-load sweep: one TCP flow (iperf3 --bitrate B) through each contender, for each B in
// the plan (100M .. 20G and unlimited). Below the host's ceiling every contender should carry
// what is offered; the interesting part is where each one stops keeping up.

import { formatBitrate, type Iperf3TcpResult } from '@sluice/iperf3';
import { BENCH_ERRORS } from '../errors.ts';
import { iperf3Through } from './iperf3-through.ts';
import { type MatrixResult, runMatrix } from './matrix.ts';
import type { ScenarioContext } from './scenario.ts';

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
