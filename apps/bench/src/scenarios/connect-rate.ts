// Connection-setup rate: L concurrent loops (split over the load generator's piscina workers)
// each connect through the contender to an echo target, send 64 bytes, read them back and
// close, over and over for the measured window. Figures: whole connections per second and the
// p50 / p99 / p99.9 of one connect-round-trip-close cycle.

import type { Contender } from '../contender.ts';
import { freePorts } from '../ports.ts';
import { LoadPool } from './load-pool.ts';
import { type MatrixResult, runMatrix } from './matrix.ts';
import { startNodeTarget } from './node-target.ts';
import { type ScenarioContext, withContender } from './scenario.ts';
import {
  type CountedDetail,
  countedMeasurement,
  describeLatency,
  LATENCY_METRICS,
  type LatencyMetric,
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
      const [listenPort, targetPort] = (await freePorts(2)) as [number, number];
      const target = await startNodeTarget('echo', targetPort);
      try {
        const load = await withContender(contender, listenPort, targetPort, (running) =>
          pool.counted(
            'connect',
            running.connectPort,
            loops,
            CONNECT_PAYLOAD_BYTES,
            options.warmupSeconds * 1000,
            options.seconds * 1000,
          ),
        );
        return countedMeasurement('connect-rate', contender.id, load);
      } finally {
        await target.stop('SIGTERM', 3000);
      }
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
