// Small messages: request/response through each contender. C connections (split over the
// load generator's piscina workers, in the bench process) each send S bytes to an echo target
// (its own process) and wait for the S bytes back, again and again, for the measured window
// after a warm-up. Figures: round trips per second, and p50 / p99 / p99.9 of the round trip.

import type { Contender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { freePorts } from '../ports.ts';
import { type CountedLoad, LoadPool } from './load-pool.ts';
import { type MatrixResult, runMatrix } from './matrix.ts';
import { startNodeTarget } from './node-target.ts';
import { type ScenarioContext, withContender } from './scenario.ts';

export const LATENCY_METRICS = ['perSecond', 'p50Us', 'p99Us', 'p999Us'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];

export interface MessagePoint {
  /** Bytes per request, and per response. */
  readonly size: number;
  readonly connections: number;
}

export interface SmallMessagesOptions {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
  readonly sizes: readonly number[];
  readonly connections: readonly number[];
}

/** What a counted run kept beyond its metrics: totals, errors, the merged histogram. */
export type CountedDetail = Omit<CountedLoad, 'perSecond' | 'latency'> & { readonly meanUs: number | null };

/**
 * Metrics: `perSecond` (round trips per second, all connections), `p50Us`, `p99Us`, `p999Us`
 * (round-trip latency, µs). Points: size × connections.
 */
export interface SmallMessagesReport extends MatrixResult<MessagePoint, LatencyMetric, CountedDetail> {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
  readonly workers: number;
}

/** `64 B`, `16 KiB`. */
export function sizeLabel(bytes: number): string {
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

export const messagePointLabel = (p: MessagePoint): string => `${sizeLabel(p.size)} × ${p.connections}`;

/** Every size at every connection count, sizes outermost. */
export function messagePoints(sizes: readonly number[], connections: readonly number[]): MessagePoint[] {
  return sizes.flatMap((size) => connections.map((c) => ({ size, connections: c })));
}

/** A counted load as metrics, or load_failed when nothing completed or errors dominate. */
export function countedMeasurement(
  scenario: string,
  contender: string,
  load: CountedLoad,
): { metrics: Record<LatencyMetric, number>; detail: CountedDetail } {
  if (load.latency === null || load.completed === 0) {
    throw BENCH_ERRORS.error('load_failed', {
      scenario,
      contender,
      reason: `nothing completed (${load.errors} errors${load.firstError ? `, first: ${load.firstError}` : ''})`,
    });
  }
  if (load.errors > load.completed) {
    throw BENCH_ERRORS.error('load_failed', {
      scenario,
      contender,
      reason: `${load.errors} errors against ${load.completed} completed (first: ${load.firstError})`,
    });
  }
  return {
    metrics: {
      perSecond: load.perSecond,
      p50Us: load.latency.p50Us,
      p99Us: load.latency.p99Us,
      p999Us: load.latency.p999Us,
    },
    detail: {
      completed: load.completed,
      errors: load.errors,
      firstError: load.firstError,
      histogram: load.histogram,
      meanUs: load.latency.meanUs,
    },
  };
}

export function describeLatency(m: Readonly<Record<LatencyMetric, number>>, unit: string): string {
  return `${Math.round(m.perSecond)} ${unit}/s, p50 ${m.p50Us} µs, p99 ${m.p99Us} µs, p99.9 ${m.p999Us} µs`;
}

export async function runSmallMessages(
  ctx: ScenarioContext,
  options: SmallMessagesOptions,
): Promise<SmallMessagesReport> {
  const pool = new LoadPool();
  try {
    const run = async (contender: Contender, point: MessagePoint) => {
      const [listenPort, targetPort] = (await freePorts(2)) as [number, number];
      const target = await startNodeTarget('echo', targetPort);
      try {
        const load = await withContender(contender, listenPort, targetPort, (running) =>
          pool.counted(
            'echo',
            running.connectPort,
            point.connections,
            point.size,
            options.warmupSeconds * 1000,
            options.seconds * 1000,
          ),
        );
        return countedMeasurement('small-messages', contender.id, load);
      } finally {
        await target.stop('SIGTERM', 3000);
      }
    };
    const result = await runMatrix(ctx, {
      scenario: 'small-messages',
      metrics: LATENCY_METRICS,
      points: messagePoints(options.sizes, options.connections),
      pointLabel: messagePointLabel,
      repeats: options.repeats,
      secondsPerRun: options.seconds + options.warmupSeconds,
      run,
      describe: (m) => describeLatency(m, 'round trips'),
    });
    return {
      ...result,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      repeats: options.repeats,
      workers: pool.workers,
    };
  } finally {
    await pool.close();
  }
}
