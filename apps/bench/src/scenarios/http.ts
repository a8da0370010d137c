// HTTP through each contender: autocannon (in a piscina worker of the bench process) against a
// plain node:http server (its own process), keep-alive, C connections, no pipelining.
// Figures: requests per second, and p50 / p99 / p99.9 latency.

import type { Contender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import type { HttpResult } from '../processes/load-messages.ts';
import { LoadPool } from './load-pool.ts';
import { cell, DASH, failedCell, matrixNotes, ratioCells, table } from './markdown-table.ts';
import { type MatrixResult, matrixFailed, runMatrix } from './matrix.ts';
import { throughNodeTarget } from './node-target.ts';
import type { ScenarioContext } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';

export const HTTP_METRICS = ['requestsPerSecond', 'p50Ms', 'p99Ms', 'p999Ms'] as const;
export type HttpMetric = (typeof HTTP_METRICS)[number];

export interface HttpOptions {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
  readonly connections: readonly number[];
}

/** Point: connections. Metrics: `requestsPerSecond` (autocannon's mean), latency in ms. */
export interface HttpReport extends MatrixResult<number, HttpMetric, HttpResult> {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
}

/** autocannon's figures as metrics, or load_failed when the run mostly failed. */
export function httpMeasurement(
  contender: string,
  r: HttpResult,
): { metrics: Record<HttpMetric, number>; detail: HttpResult } {
  const failed = r.errors + r.timeouts + r.non2xx;
  if (r.requests === 0 || failed > r.requests) {
    throw BENCH_ERRORS.error('load_failed', {
      scenario: 'http',
      contender,
      reason: `${r.requests} requests answered, ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`,
    });
  }
  return {
    metrics: {
      requestsPerSecond: r.requestsPerSecond,
      p50Ms: r.latencyMs.p50,
      p99Ms: r.latencyMs.p99,
      p999Ms: r.latencyMs.p999,
    },
    detail: r,
  };
}

export async function runHttp(ctx: ScenarioContext, options: HttpOptions): Promise<HttpReport> {
  const pool = new LoadPool(1);
  try {
    const run = async (contender: Contender, connections: number) => {
      const result = await throughNodeTarget('http', contender, (port) =>
        pool.http({
          url: `http://127.0.0.1:${port}/`,
          connections,
          warmupSeconds: options.warmupSeconds,
          seconds: options.seconds,
        }),
      );
      return httpMeasurement(contender.id, result);
    };
    const result = await runMatrix(ctx, {
      scenario: 'http',
      metrics: HTTP_METRICS,
      points: options.connections,
      pointLabel: (c) => `${c} connections`,
      repeats: options.repeats,
      secondsPerRun: options.seconds + options.warmupSeconds,
      run,
      describe: (m) =>
        `${Math.round(m.requestsPerSecond)} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, p99.9 ${m.p999Ms} ms`,
    });
    return {
      ...result,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      repeats: options.repeats,
    };
  } finally {
    await pool.close();
  }
}

function httpMarkdown(h: HttpReport, notes: string[]): string[] {
  const rows = h.rows.map((r) =>
    r.summary.requestsPerSecond === null
      ? [r.label, r.pointLabel, failedCell(r), DASH, DASH, DASH, DASH, DASH]
      : [
          r.label,
          String(r.point),
          cell(r.summary.requestsPerSecond, 0),
          cell(r.summary.p50Ms, 0),
          cell(r.summary.p99Ms, 0),
          cell(r.summary.p999Ms, 0),
          ...ratioCells(r, 'requestsPerSecond'),
        ],
  );
  matrixNotes('http', h.rows, h.notApplicable, notes);
  return [
    `### HTTP: autocannon against node:http, keep-alive, ${h.seconds} s, median of ${h.repeats}`,
    '',
    ...table(
      ['contender', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', '× direct', '× REDIRECT'],
      rows,
    ),
  ];
}

export interface HttpPlan {
  /** autocannon connections per point. */
  readonly httpConnections: readonly number[];
}

const HTTP_PLAN: PlanParts<HttpPlan> = {
  full: { httpConnections: [10, 100] },
  quick: { httpConnections: [100] },
};

export const httpScenario = defineScenario({
  id: 'http',
  reportKey: 'http',
  plan: HTTP_PLAN,
  usesIperf3: false,
  appliesTo: () => true,
  pointsPerRepeat: (plan) => plan.httpConnections.length,
  secondsPerRun: (plan) => plan.seconds + plan.warmupSeconds,
  run: (ctx, plan) =>
    runHttp(ctx, {
      seconds: plan.seconds,
      warmupSeconds: plan.warmupSeconds,
      repeats: plan.repeats,
      connections: plan.httpConnections,
    }),
  markdown: httpMarkdown,
  charts: () => [],
  failed: matrixFailed,
});
