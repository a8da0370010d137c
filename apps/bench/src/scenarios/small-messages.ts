// Small messages: request/response through each contender. C connections (split over the
// load generator's piscina workers, in the bench process) each send S bytes to an echo target
// (its own process) and wait for the S bytes back, again and again, for the measured window
// after a warm-up. Figures: round trips per second, and p50 / p99 / p99.9 of the round trip.

import { type Chart, spread } from '../charts/chart-specs.ts';
import { type LatencyPoint, latencyChart, type RatePoint, rateChart } from '../charts/latency-chart.ts';
import type { Contender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { type CountedLoad, LoadPool } from './load-pool.ts';
import { cell, DASH, failedCell, matrixNotes, ratioCells, table } from './markdown-table.ts';
import { type MatrixResult, type MatrixRow, matrixFailed, runMatrix } from './matrix.ts';
import { throughNodeTarget } from './node-target.ts';
import type { ScenarioContext } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';

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
export type SmallMessagesReport = CountedMatrixReport<MessagePoint>;

/** `64 B`, `16 KiB`. */
function sizeLabel(bytes: number): string {
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

export const messagePointLabel = (p: MessagePoint): string => `${sizeLabel(p.size)} × ${p.connections}`;

/** Every size at every connection count, sizes outermost. */
export function messagePoints(sizes: readonly number[], connections: readonly number[]): MessagePoint[] {
  return sizes.flatMap((size) => connections.map((c) => ({ size, connections: c })));
}

/** A counted load as metrics, or load_failed when nothing completed or errors dominate. */
function countedMeasurement(
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

function describeLatency(m: Readonly<Record<LatencyMetric, number>>, unit: string): string {
  return `${Math.round(m.perSecond)} ${unit}/s, p50 ${m.p50Us} µs, p99 ${m.p99Us} µs, p99.9 ${m.p999Us} µs`;
}

export interface CountedMatrixSpec<P> {
  readonly scenario: string;
  /** `echo`: connections that stay open; `connect`: a new connection per round trip. */
  readonly mode: 'echo' | 'connect';
  readonly points: readonly P[];
  readonly pointLabel: (point: P) => string;
  /** Concurrent connections (or connect loops) at a point, and bytes each way per round trip. */
  readonly load: (point: P) => { readonly connections: number; readonly bytes: number };
  /** What one counted round trip is, for the log: `round trips`, `connections`. */
  readonly unit: string;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
}

/** A counted matrix's result, with how it was measured. */
export interface CountedMatrixReport<P> extends MatrixResult<P, LatencyMetric, CountedDetail> {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
  /** Load worker threads the connections were spread over. */
  readonly workers: number;
}

/**
 * A matrix of counted loads against a fresh echo target (small messages, connection setup),
 * from a pool of load workers in this process.
 */
export async function runCountedMatrix<P>(
  ctx: ScenarioContext,
  spec: CountedMatrixSpec<P>,
): Promise<CountedMatrixReport<P>> {
  const pool = new LoadPool();
  try {
    const run = async (contender: Contender, point: P) => {
      const { connections, bytes } = spec.load(point);
      const load = await throughNodeTarget('echo', contender, (port) =>
        pool.counted(spec.mode, port, connections, bytes, spec.warmupSeconds * 1000, spec.seconds * 1000),
      );
      return countedMeasurement(spec.scenario, contender.id, load);
    };
    const result = await runMatrix(ctx, {
      scenario: spec.scenario,
      metrics: LATENCY_METRICS,
      points: spec.points,
      pointLabel: spec.pointLabel,
      repeats: spec.repeats,
      secondsPerRun: spec.seconds + spec.warmupSeconds,
      run,
      describe: (m) => describeLatency(m, spec.unit),
    });
    return {
      ...result,
      seconds: spec.seconds,
      warmupSeconds: spec.warmupSeconds,
      repeats: spec.repeats,
      workers: pool.workers,
    };
  } finally {
    await pool.close();
  }
}

export function runSmallMessages(
  ctx: ScenarioContext,
  options: SmallMessagesOptions,
): Promise<SmallMessagesReport> {
  return runCountedMatrix(ctx, {
    scenario: 'small-messages',
    mode: 'echo',
    points: messagePoints(options.sizes, options.connections),
    pointLabel: messagePointLabel,
    load: (point) => ({ connections: point.connections, bytes: point.size }),
    unit: 'round trips',
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    repeats: options.repeats,
  });
}

/** Table rows of a latency matrix (small messages, connection setup): rate, percentiles, ratios. */
export function latencyRows(
  rows: readonly MatrixRow<unknown, LatencyMetric, unknown>[],
  withPoint: boolean,
): string[][] {
  return rows.map((r) => {
    const lead = withPoint ? [r.label, r.pointLabel] : [r.label];
    if (r.summary.perSecond === null) return [...lead, failedCell(r), DASH, DASH, DASH, DASH, DASH];
    return [
      ...lead,
      cell(r.summary.perSecond, 0),
      cell(r.summary.p50Us, 0),
      cell(r.summary.p99Us, 0),
      cell(r.summary.p999Us, 0),
      ...ratioCells(r, 'perSecond'),
    ];
  });
}

function smallMessagesMarkdown(m: SmallMessagesReport, notes: string[]): string[] {
  matrixNotes('small-messages', m.rows, m.notApplicable, notes);
  return [
    `### Small messages: echo request/response, ${m.seconds} s after ${m.warmupSeconds} s warm-up, median of ${m.repeats}, load from ${m.workers} piscina workers`,
    '',
    ...table(
      [
        'contender',
        'size × connections',
        'round trips/s',
        'p50 µs',
        'p99 µs',
        'p99.9 µs',
        '× direct',
        '× REDIRECT',
      ],
      latencyRows(m.rows, true),
    ),
  ];
}

const PERCENTILE_METRICS = [
  ['p50', 'p50Us'],
  ['p99', 'p99Us'],
  ['p99.9', 'p999Us'],
] as const;

/** Latency percentiles and round trips per second, by size and connection count. */
function smallMessagesCharts(s: SmallMessagesReport, where: string): Chart[] {
  const latency: LatencyPoint[] = [];
  const rate: RatePoint[] = [];
  for (const row of s.rows) {
    for (const [percentile, metric] of PERCENTILE_METRICS) {
      const summary = row.summary[metric];
      if (summary === null) continue;
      latency.push({
        contender: row.contender,
        label: row.label,
        size: sizeLabel(row.point.size),
        connections: String(row.point.connections),
        percentile,
        microseconds: summary.median,
      });
    }
    const perSecond = row.summary.perSecond;
    if (perSecond !== null) {
      rate.push({
        contender: row.contender,
        label: row.label,
        size: sizeLabel(row.point.size),
        connections: String(row.point.connections),
        perSecond: perSecond.median,
        ...spread(perSecond),
      });
    }
  }
  const sizes = [...new Set(s.points.map((p) => p.size))].sort((a, b) => a - b).map(sizeLabel);
  const connections = [...new Set(s.points.map((p) => p.connections))].sort((a, b) => a - b).map(String);
  const how = `TCP echo, request and response of one size, ${s.seconds} s after ${s.warmupSeconds} s warm-up, median of ${s.repeats}; load from ${s.workers} worker threads`;
  const charts: Chart[] = [];
  if (latency.length > 0) charts.push(latencyChart(latency, sizes, connections, [how, where]));
  if (rate.length > 0) charts.push(rateChart(rate, sizes, connections, [how, where]));
  return charts;
}

export interface SmallMessagesPlan {
  /** Request (and response) sizes in bytes. */
  readonly messageSizes: readonly number[];
  /** Concurrent connections. */
  readonly messageConnections: readonly number[];
}

const SMALL_MESSAGES_PLAN: PlanParts<SmallMessagesPlan> = {
  full: { messageSizes: [64, 1024, 16 * 1024, 64 * 1024], messageConnections: [10, 100, 500] },
  quick: { messageSizes: [64, 16 * 1024], messageConnections: [100] },
};

export const smallMessagesScenario = defineScenario({
  id: 'small-messages',
  reportKey: 'smallMessages',
  plan: SMALL_MESSAGES_PLAN,
  usesIperf3: false,
  appliesTo: () => true,
  pointsPerRepeat: (plan) => plan.messageSizes.length * plan.messageConnections.length,
  secondsPerRun: (plan) => plan.seconds + plan.warmupSeconds,
  run: (ctx, plan) =>
    runSmallMessages(ctx, {
      seconds: plan.seconds,
      warmupSeconds: plan.warmupSeconds,
      repeats: plan.repeats,
      sizes: plan.messageSizes,
      connections: plan.messageConnections,
    }),
  markdown: smallMessagesMarkdown,
  charts: smallMessagesCharts,
  failed: matrixFailed,
});
