// Connection-setup rate: L concurrent loops (split over the load generator's piscina workers)
// each connect through the contender to an echo target, send 64 bytes, read them back and
// close, over and over for the measured window. Figures: whole connections per second and the
// p50 / p99 / p99.9 of one connect-round-trip-close cycle.

import type { Contender } from '../contender.ts';
import { LoadPool } from './load-pool.ts';
import { matrixNotes, table } from './markdown-table.ts';
import { type MatrixResult, matrixFailed, runMatrix } from './matrix.ts';
import { throughNodeTarget } from './node-target.ts';
import type { ScenarioContext } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';
import {
  type CountedDetail,
  countedMeasurement,
  describeLatency,
  LATENCY_METRICS,
  type LatencyMetric,
  latencyRows,
} from './small-messages.ts';

/** Bytes sent and echoed once per connection. */
export const CONNECT_PAYLOAD_BYTES = 64;

export interface ConnectRateOptions {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
  readonly loops: number;
}

/** Point: concurrent loops. Metrics: `perSecond` (connections), and cycle latency `p50Us`.. */
export interface ConnectRateReport extends MatrixResult<number, LatencyMetric, CountedDetail> {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
  readonly workers: number;
  readonly payloadBytes: number;
}

export async function runConnectRate(
  ctx: ScenarioContext,
  options: ConnectRateOptions,
): Promise<ConnectRateReport> {
  const pool = new LoadPool();
  try {
    const run = async (contender: Contender, loops: number) => {
      const load = await throughNodeTarget('echo', contender, (port) =>
        pool.counted(
          'connect',
          port,
          loops,
          CONNECT_PAYLOAD_BYTES,
          options.warmupSeconds * 1000,
          options.seconds * 1000,
        ),
      );
      return countedMeasurement('connect-rate', contender.id, load);
    };
    const result = await runMatrix(ctx, {
      scenario: 'connect-rate',
      metrics: LATENCY_METRICS,
      points: [options.loops],
      pointLabel: (loops) => `${loops} loops`,
      repeats: options.repeats,
      secondsPerRun: options.seconds + options.warmupSeconds,
      run,
      describe: (m) => describeLatency(m, 'connections'),
    });
    return {
      ...result,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      repeats: options.repeats,
      workers: pool.workers,
      payloadBytes: CONNECT_PAYLOAD_BYTES,
    };
  } finally {
    await pool.close();
  }
}

function connectRateMarkdown(c: ConnectRateReport, notes: string[]): string[] {
  matrixNotes('connect-rate', c.rows, c.notApplicable, notes);
  const loops = c.points.join(', ');
  return [
    `### Connection setup: connect, ${c.payloadBytes} B round trip, close; ${loops} loops over ${c.workers} piscina workers, ${c.seconds} s, median of ${c.repeats}`,
    '',
    ...table(
      ['contender', 'connections/s', 'p50 µs', 'p99 µs', 'p99.9 µs', '× direct', '× REDIRECT'],
      latencyRows(c.rows, false),
    ),
  ];
}

export interface ConnectRatePlan {
  /** Concurrent connect loops, spread over the load generator's workers. */
  readonly connectLoops: number;
}

const CONNECT_RATE_PLAN: PlanParts<ConnectRatePlan> = { full: { connectLoops: 16 }, quick: { connectLoops: 16 } };

export const connectRateScenario = defineScenario({
  id: 'connect-rate',
  reportKey: 'connectRate',
  plan: CONNECT_RATE_PLAN,
  usesIperf3: false,
  appliesTo: () => true,
  pointsPerRepeat: () => 1,
  secondsPerRun: (plan) => plan.seconds + plan.warmupSeconds,
  run: (ctx, plan) =>
    runConnectRate(ctx, {
      seconds: plan.seconds,
      warmupSeconds: plan.warmupSeconds,
      repeats: plan.repeats,
      loops: plan.connectLoops,
    }),
  markdown: connectRateMarkdown,
  charts: () => [],
  failed: matrixFailed,
});
