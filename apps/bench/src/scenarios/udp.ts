// UDP throughput and loss: iperf3 -u at set bitrates (datagrams of the plan's length) through
// each contender that relays UDP; the others are listed as not applicable, with the reason.
// iperf3 keeps its control connection on TCP, so a contender relays both on the same port.
// Every contender's run gives iperf3's sockets the plan's buffer (-w, the receiver's too): with
// the kernel's default of 208 KiB, iperf3's own receiving socket holds about 1 ms at 1 Gbit/s and
// overflows whenever the receiver waits that long for a core. Loss then measured the receiver's
// scheduling, not the contender (the kernel counted every drop on iperf3's port).

import { formatBitrate, type Iperf3UdpResult } from '@sluice/iperf3';
import type { Contender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { iperf3Through } from './iperf3-through.ts';
import { cell, DASH, failedCell, matrixNotes, ratioCells, table } from './markdown-table.ts';
import { type MatrixResult, matrixFailed, runMatrix } from './matrix.ts';
import type { ScenarioContext } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';

export const UDP_METRICS = ['bitsPerSecond', 'lostPercent', 'jitterMs'] as const;
export type UdpMetric = (typeof UDP_METRICS)[number];

export interface UdpOptions {
  readonly seconds: number;
  readonly repeats: number;
  readonly bitrates: readonly number[];
  /** Datagram payload, bytes (iperf3 -l). */
  readonly length: number;
  /** iperf3's socket buffers, bytes (-w). */
  readonly socketBuffer: number;
}

/**
 * `point` is the offered load in bits per second; metrics: `bitsPerSecond` (received),
 * `lostPercent` and `jitterMs` (the receiver's); detail: iperf3's report.
 */
export interface UdpReport extends MatrixResult<number, UdpMetric, Iperf3UdpResult> {
  readonly seconds: number;
  readonly repeats: number;
  readonly length: number;
  readonly socketBuffer: number;
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
    socketBuffer: options.socketBuffer,
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
  const { seconds, repeats, length, socketBuffer } = options;
  return { ...result, seconds, repeats, length, socketBuffer };
}

function socketBufferLabel(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} B`;
}

function udpMarkdown(u: UdpReport, notes: string[]): string[] {
  const rows = u.rows.map((r) =>
    r.summary.bitsPerSecond === null
      ? [r.label, r.pointLabel, failedCell(r), DASH, DASH, DASH, DASH]
      : [
          r.label,
          r.pointLabel,
          cell(r.summary.bitsPerSecond, 0, 1e6),
          cell(r.summary.lostPercent, 2),
          cell(r.summary.jitterMs, 3),
          ...ratioCells(r, 'bitsPerSecond'),
        ],
  );
  matrixNotes('udp', u.rows, u.notApplicable, notes);
  return [
    `### UDP: iperf3 -u, ${u.length}-byte datagrams, ${socketBufferLabel(u.socketBuffer)} socket buffers, ${u.seconds} s, median of ${u.repeats}`,
    '',
    ...table(
      ['contender', 'offered', 'received Mbit/s', 'lost %', 'jitter ms', '× direct', '× REDIRECT'],
      rows,
    ),
  ];
}

export interface UdpPlan {
  /** Offered loads, bits per second. */
  readonly udpBitrates: readonly number[];
  /** The datagram payload, bytes (iperf3 -l). */
  readonly udpLength: number;
  /** iperf3's socket buffers, bytes (-w): sluice's own default udp_receive_buffer, 4 MiB. */
  readonly udpSocketBuffer: number;
}

const UDP_PLAN: PlanParts<UdpPlan> = {
  full: { udpBitrates: [100e6, 1e9, 2.5e9, 5e9], udpLength: 1400, udpSocketBuffer: 4 * 1024 * 1024 },
  quick: { udpBitrates: [100e6, 1e9, 2.5e9, 5e9], udpLength: 1400, udpSocketBuffer: 4 * 1024 * 1024 },
};

export const udpScenario = defineScenario({
  id: 'udp',
  reportKey: 'udp',
  plan: UDP_PLAN,
  usesIperf3: true,
  appliesTo: (contender) => udpNotApplicable(contender) === null,
  pointsPerRepeat: (plan) => plan.udpBitrates.length,
  secondsPerRun: (plan) => plan.seconds,
  run: (ctx, plan) =>
    runUdp(ctx, {
      seconds: plan.seconds,
      repeats: plan.repeats,
      bitrates: plan.udpBitrates,
      length: plan.udpLength,
      socketBuffer: plan.udpSocketBuffer,
    }),
  markdown: udpMarkdown,
  charts: () => [],
  failed: matrixFailed,
});
