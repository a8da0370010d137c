// Connection-setup rate: L concurrent loops (split over the load generator's piscina workers)
// each connect through the contender to an echo target, send 64 bytes, read them back and
// close, over and over for the measured window. Figures: whole connections per second and the
// p50 / p99 / p99.9 of one connect-round-trip-close cycle.

import { matrixNotes, table } from './markdown-table.ts';
import { matrixFailed } from './matrix.ts';
import type { ScenarioContext } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';
import { type CountedMatrixReport, latencyRows, runCountedMatrix } from './small-messages.ts';

/** Bytes sent and echoed once per connection. */
export const CONNECT_PAYLOAD_BYTES = 64;

export interface ConnectRateOptions {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly repeats: number;
  readonly loops: number;
}

/** Point: concurrent loops. Metrics: `perSecond` (connections), and cycle latency `p50Us`.. */
export interface ConnectRateReport extends CountedMatrixReport<number> {
  readonly payloadBytes: number;
}

export async function runConnectRate(
  ctx: ScenarioContext,
  options: ConnectRateOptions,
): Promise<ConnectRateReport> {
  const report = await runCountedMatrix(ctx, {
    scenario: 'connect-rate',
    mode: 'connect',
    points: [options.loops],
    pointLabel: (loops) => `${loops} loops`,
    load: (loops) => ({ connections: loops, bytes: CONNECT_PAYLOAD_BYTES }),
    unit: 'connections',
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    repeats: options.repeats,
  });
  return { ...report, payloadBytes: CONNECT_PAYLOAD_BYTES };
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

const CONNECT_RATE_PLAN: PlanParts<ConnectRatePlan> = {
  full: { connectLoops: 16 },
  quick: { connectLoops: 16 },
};

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
