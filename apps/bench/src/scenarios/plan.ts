// What each scenario measures in a full run and in a quick one (--quick): durations, repeats,
// offered loads, message sizes, connection counts. Pure data, so the quick matrix is tested
// (and its cost estimated) without running anything.

import type { ScenarioId } from './scenario.ts';

export interface ScenarioPlan {
  /** Seconds of measured traffic per run (iperf3 -t; load generators' measured window). */
  readonly seconds: number;
  /** Runs per contender and point; the tables give the median and min-max. */
  readonly repeats: number;
  /** Load generators run this long before the measured window (connections warm, JIT done). */
  readonly warmupSeconds: number;
  /** sweep: iperf3 --bitrate per point, bits per second; 0 is unlimited. */
  readonly sweepBitrates: readonly number[];
  /** parallel: iperf3 -P. */
  readonly parallelStreams: number;
  /** udp: offered loads, bits per second, and the datagram payload (iperf3 -l). */
  readonly udpBitrates: readonly number[];
  readonly udpLength: number;
  /** small-messages: request (and response) sizes in bytes, and concurrent connections. */
  readonly messageSizes: readonly number[];
  readonly messageConnections: readonly number[];
  /** http: autocannon connections per point. */
  readonly httpConnections: readonly number[];
  /** connect-rate: concurrent connect loops, spread over the load generator's workers. */
  readonly connectLoops: number;
  /** idle-memory: connection counts, measured in ascending order in one relay process. */
  readonly idleConnections: readonly number[];
  /** qos-cap: bandwidth caps, bits per second; each is measured on one flow and on `qosStreams`. */
  readonly qosCaps: readonly number[];
  /** qos-cap: iperf3 -P for the owner cap shared by several flows. */
  readonly qosStreams: number;
  /**
   * qos-cap: iperf3 --omit, seconds left out before the measured `seconds`: a cap's bucket
   * starts full (the default burst is one second of rate), which would inflate the figure.
   */
  readonly qosOmitSeconds: number;
}

const G = 1e9;
const M = 1e6;

export const FULL_PLAN: ScenarioPlan = {
  seconds: 10,
  repeats: 3,
  warmupSeconds: 1,
  sweepBitrates: [100 * M, 1 * G, 2.5 * G, 5 * G, 10 * G, 15 * G, 20 * G, 0],
  parallelStreams: 8,
  udpBitrates: [100 * M, 1 * G, 5 * G],
  udpLength: 1400,
  messageSizes: [64, 1024, 16 * 1024, 64 * 1024],
  messageConnections: [10, 100, 500],
  httpConnections: [10, 100],
  connectLoops: 16,
  idleConnections: [1000, 4000, 10_000],
  qosCaps: [10 * M, 100 * M, 1 * G],
  qosStreams: 8,
  qosOmitSeconds: 2,
};

export const QUICK_PLAN: ScenarioPlan = {
  seconds: 2,
  repeats: 1,
  warmupSeconds: 0.5,
  sweepBitrates: [1 * G, 10 * G, 0],
  parallelStreams: 8,
  udpBitrates: [100 * M, 1 * G],
  udpLength: 1400,
  messageSizes: [64, 16 * 1024],
  messageConnections: [100],
  httpConnections: [100],
  connectLoops: 16,
  idleConnections: [1000, 4000],
  qosCaps: [1 * G],
  qosStreams: 8,
  qosOmitSeconds: 1,
};

/** Measured runs a scenario makes per contender that it applies to (points times repeats). */
export function runsPerContender(plan: ScenarioPlan, scenario: ScenarioId): number {
  const points: Record<ScenarioId, number> = {
    throughput: 1,
    sweep: plan.sweepBitrates.length,
    parallel: 1,
    udp: plan.udpBitrates.length,
    'small-messages': plan.messageSizes.length * plan.messageConnections.length,
    http: plan.httpConnections.length,
    'connect-rate': 1,
    // One relay process per run, every count measured in it.
    'idle-memory': 1,
    // Each cap on one flow (rule cap) and on several (owner cap).
    'qos-cap': plan.qosCaps.length * 2,
  };
  return points[scenario] * plan.repeats;
}

/** Seconds of measured traffic one run of `scenario` takes (without start-up and teardown). */
export function secondsPerRun(plan: ScenarioPlan, scenario: ScenarioId): number {
  switch (scenario) {
    case 'idle-memory':
      // Per count: open, then two readings a second apart; plus warm-up and settling.
      return 2 + plan.idleConnections.length * 3;
    case 'small-messages':
    case 'connect-rate':
    case 'http':
      return plan.seconds + plan.warmupSeconds;
    case 'qos-cap':
      return plan.seconds + plan.qosOmitSeconds;
    default:
      return plan.seconds;
  }
}

/** Start-up and teardown per run, seconds: fresh target and contender (sluice's edge is slowest). */
export const RUN_OVERHEAD_SECONDS = 0.6;

/**
 * A rough estimate of a suite's wall-clock seconds: every scenario, every contender it applies
 * to, every run, measured time plus start-up. Used to keep --quick inside its budget.
 */
export function estimateSeconds(
  plan: ScenarioPlan,
  scenarios: readonly ScenarioId[],
  contenders: {
    readonly all: number;
    readonly udp: number;
    readonly idle: number;
    /** Contenders that take a bandwidth cap (sluice's edge). */
    readonly qos: number;
  },
): number {
  let total = 0;
  for (const scenario of scenarios) {
    // The sweep's unlimited point is the throughput figure; nothing runs twice.
    if (scenario === 'throughput' && scenarios.includes('sweep')) continue;
    const count =
      scenario === 'udp'
        ? contenders.udp
        : scenario === 'idle-memory'
          ? contenders.idle
          : scenario === 'qos-cap'
            ? contenders.qos
            : contenders.all;
    total +=
      count * runsPerContender(plan, scenario) * (secondsPerRun(plan, scenario) + RUN_OVERHEAD_SECONDS);
  }
  return total;
}
