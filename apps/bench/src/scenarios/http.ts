// HTTP through each contender: autocannon (in a piscina worker of the bench process) against a
// plain node:http server (its own process), keep-alive, C connections, no pipelining.
// Figures: requests per second, and p50 / p99 / p99.9 latency.

import type { Contender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import type { HttpResult } from '../processes/load-messages.ts';
import { freePorts } from '../ports.ts';
import { LoadPool } from './load-pool.ts';
import { type MatrixResult, runMatrix } from './matrix.ts';
import { startNodeTarget } from './node-target.ts';
import { type ScenarioContext, withContender } from './scenario.ts';

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
      const [listenPort, targetPort] = (await freePorts(2)) as [number, number];
      const target = await startNodeTarget('http', targetPort);
      try {
        const result = await withContender(contender, listenPort, targetPort, (running) =>
          pool.http({
            url: `http://127.0.0.1:${running.connectPort}/`,
            connections,
            warmupSeconds: options.warmupSeconds,
            seconds: options.seconds,
          }),
        );
        return httpMeasurement(contender.id, result);
      } finally {
        await target.stop('SIGTERM', 3000);
      }
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
