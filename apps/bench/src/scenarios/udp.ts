// UDP throughput and loss: iperf3 -u at set bitrates (datagrams of the plan's length) through
// each contender that relays UDP; the others are listed as not applicable, with the reason.
// iperf3 keeps its control connection on TCP, so a contender relays both on the same port.

import { formatBitrate, type Iperf3UdpResult } from '@sluice/iperf3';
import type { Contender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { iperf3Through } from './iperf3-through.ts';
import { type MatrixResult, runMatrix } from './matrix.ts';
import type { ScenarioContext } from './scenario.ts';

export const UDP_METRICS = ['bitsPerSecond', 'lostPercent', 'jitterMs'] as const;
export type UdpMetric = (typeof UDP_METRICS)[number];

export interface UdpOptions {
  readonly seconds: number;
  readonly repeats: number;
  readonly bitrates: readonly number[];
  /** Datagram payload, bytes (iperf3 -l). */
  readonly length: number;
}

/**
 * `point` is the offered load in bits per second; metrics: `bitsPerSecond` (received),
 * `lostPercent` and `jitterMs` (the receiver's); detail: iperf3's report.
 */
export interface UdpReport extends MatrixResult<number, UdpMetric, Iperf3UdpResult> {
  readonly seconds: number;
  readonly repeats: number;
  readonly length: number;
}

export function udpNotApplicable(contender: Contender): string | null {
  return contender.udpNotApplicable ?? null;
}

async function udpRun(contender: Contender, options: UdpOptions, bitrate: number) {
  const result = await iperf3Through(contender, {
    udp: true,
    seconds: options.seconds,
    bitrate,
    length: options.length,
  });
  if (result.protocol !== 'udp') {
    throw BENCH_ERRORS.error('load_failed', {
      scenario: 'udp',
      contender: contender.id,
      reason: 'not a UDP report',
    });
  }
  return {
    metrics: {
      bitsPerSecond: result.receivedBitsPerSecond,
      lostPercent: result.lostPercent,
      jitterMs: result.jitterMs,
    },
    detail: result,
  };
}

export async function runUdp(ctx: ScenarioContext, options: UdpOptions): Promise<UdpReport> {
  const result = await runMatrix(ctx, {
    scenario: 'udp',
    metrics: UDP_METRICS,
    points: options.bitrates,
    pointLabel: formatBitrate,
    repeats: options.repeats,
    secondsPerRun: options.seconds,
    notApplicable: udpNotApplicable,
    run: (contender, bitrate) => udpRun(contender, options, bitrate),
    describe: (m) =>
      `${(m.bitsPerSecond / 1e6).toFixed(0)} Mbit/s received, ${m.lostPercent.toFixed(2)} % lost, jitter ${m.jitterMs.toFixed(3)} ms`,
  });
  return { ...result, seconds: options.seconds, repeats: options.repeats, length: options.length };
}
