// Bandwidth caps (issue scenario 7): the measured rate of a capped rule over its cap. iperf3
// offers unlimited load through a sluice edge whose rule is capped, for each cap of the plan:
// one flow against a cap on the rule (`limits = { bandwidth = CAP }`), and several flows
// (iperf3 -P) sharing a cap on the rule's owner (`[owners.bench] limits`, no cap on the rule),
// their sum measured. The figure is measured / cap; a ratio to direct or REDIRECT means nothing
// for a flow that is meant to run at its cap. The edge's CPU time (every thread: shards are
// worker threads) over the measured interval gives the cost of a capped gigabit, splice path
// against JS path.
//
// A cap's bucket starts full (the default burst is one second of rate) and an unlimited sender
// empties it at once, so the first seconds are left out with iperf3 --omit; the receiver's
// total over the rest is the measured rate.

import { formatBitrate, type Iperf3Result, type Iperf3TcpResult, runIperf3 } from '@sluice/iperf3';
import { type Chart, spread } from '../charts/chart-specs.ts';
import { QOS_ACCURACY, QOS_CPU, type QosCapChartPoint, qosChart } from '../charts/qos-chart.ts';
import type { BandwidthCap, Contender } from '../contender.ts';
import { type CpuSample, type CpuWindow, cpuWindow, sampleTreeCpu } from '../cpu.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { withIperf3Target } from './iperf3-through.ts';
import { cell, DASH, failedCell, matrixNotes, table } from './markdown-table.ts';
import { type MatrixResult, type Measured, matrixFailed, runMatrix } from './matrix.ts';
import { type ScenarioContext, withContender } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';

export const QOS_CAP_METRICS = ['bitsPerSecond', 'ofCap', 'cpuPercent', 'cpuSecondsPerGbit'] as const;
export type QosCapMetric = (typeof QOS_CAP_METRICS)[number];

/** sluice's default burst: one second of the cap's rate. */
export const DEFAULT_BURST_SECONDS = 1;
/** How close to its cap a capped flow should run: measured / cap within 1 ± this. */
export const QOS_CAP_TARGET = 0.02;

export interface QosCapPoint {
  /** The cap, bits per second (both directions; iperf3's data goes one way). */
  readonly capBitsPerSecond: number;
  /** `rule`: the cap on the rule, one flow. `owner`: the cap on the owner, `streams` flows. */
  readonly scope: BandwidthCap['scope'];
  /** iperf3 -P. */
  readonly streams: number;
}

export interface QosCapDetail {
  readonly iperf3: Iperf3TcpResult;
  /**
   * Wall-clock seconds the iperf3 client ran, start to exit. More than omit + seconds (and a
   * moment) means its control connection, which crosses the same cap, waited behind the bytes
   * the flows still had queued when the test ended.
   */
  readonly clientSeconds: number;
  /** The edge's CPU time over (most of) the measured interval; null when it could not be read. */
  readonly cpu: CpuWindow | null;
}

export interface QosCapOptions {
  readonly seconds: number;
  readonly repeats: number;
  /** Caps, bits per second. */
  readonly caps: readonly number[];
  /** iperf3 -P for the owner cap. */
  readonly streams: number;
  /** iperf3 --omit, seconds. */
  readonly omitSeconds: number;
}

/**
 * `point` is a cap with its scope and flow count; metrics: `bitsPerSecond` (received, iperf3
 * end.sum_received, all flows), `ofCap` (that over the cap: the figure), `cpuPercent` (the
 * edge's user + system time over the wall time sampled, percent of one core) and
 * `cpuSecondsPerGbit` (CPU seconds per gigabit carried). The CPU metrics are NaN (null in the
 * JSON) when the edge's /proc entry could not be read. `vsDirect` / `vsRedirect` are always
 * null: neither baseline has a cap.
 */
export interface QosCapReport extends MatrixResult<QosCapPoint, QosCapMetric, QosCapDetail> {
  readonly seconds: number;
  readonly omitSeconds: number;
  readonly repeats: number;
  readonly caps: readonly number[];
  readonly streams: number;
  readonly burstSeconds: number;
  readonly target: number;
}

/** The points of a plan: each cap on one flow (rule cap), then on `streams` flows (owner cap). */
export function qosCapPoints(caps: readonly number[], streams: number): QosCapPoint[] {
  return caps.flatMap((capBitsPerSecond) => [
    { capBitsPerSecond, scope: 'rule' as const, streams: 1 },
    { capBitsPerSecond, scope: 'owner' as const, streams },
  ]);
}

/** `1 flow, rule cap`, `8 flows, owner cap`. */
function qosCapFlowsLabel(point: Pick<QosCapPoint, 'scope' | 'streams'>): string {
  return `${point.streams === 1 ? '1 flow' : `${point.streams} flows`}, ${point.scope} cap`;
}

/** `1G · 1 flow, rule cap`, `1G · 8 flows, owner cap`. */
export function qosCapPointLabel(point: QosCapPoint): string {
  return `${formatBitrate(point.capBitsPerSecond)} · ${qosCapFlowsLabel(point)}`;
}

export function qosCapNotApplicable(contender: Contender): string | null {
  return contender.capsBandwidth === true
    ? null
    : "no bandwidth cap to configure; the scenario measures sluice's limits";
}

/**
 * Samples the CPU time of `pid` at `fromMs` and `toMs` after now; `finish` returns the window
 * between the two samples, or null when either was missed (the run ended early, the process
 * was gone).
 */
function cpuSampler(pid: number, fromMs: number, toMs: number): { finish: () => CpuWindow | null } {
  let first: CpuSample | null = null;
  let last: CpuSample | null = null;
  const a = setTimeout(() => {
    first = sampleTreeCpu(pid);
  }, fromMs);
  const b = setTimeout(() => {
    last = sampleTreeCpu(pid);
  }, toMs);
  return {
    finish: () => {
      clearTimeout(a);
      clearTimeout(b);
      return first === null || last === null ? null : cpuWindow(first, last);
    },
  };
}

/** CPU is sampled this far inside the measured interval at each end (connection set-up, the last write). */
const CPU_MARGIN_MS = 250;

/** What one flow can have queued between the sender and the edge: socket buffers on both sides. */
const QUEUED_BYTES_PER_FLOW = 8 * 1024 * 1024;

/**
 * How long the client may take: iperf3's usual allowance (omit + seconds + 20 s) plus the time
 * the cap takes to carry what the flows can have queued when the test ends. iperf3's end
 * message crosses the cap on its control connection, and may wait behind those bytes (at 10M
 * with 8 flows, tens of seconds); the figure is still sound, as the receiver measures until it
 * gets the message.
 */
export function qosClientTimeoutMs(point: QosCapPoint, seconds: number, omitSeconds: number): number {
  const drainSeconds = (point.streams * QUEUED_BYTES_PER_FLOW * 8) / point.capBitsPerSecond;
  return Math.ceil((omitSeconds + seconds + 20 + drainSeconds) * 1000);
}

/** A run whose client took this much longer than omit + seconds is noted under the table. */
export const QOS_SLOW_END_SECONDS = 5;

export function qosCapMetrics(
  capBitsPerSecond: number,
  result: Iperf3TcpResult,
  cpu: CpuWindow | null,
): Record<QosCapMetric, number> {
  const bitsPerSecond = result.receivedBitsPerSecond;
  const cpuFraction = cpu === null ? Number.NaN : (cpu.userSeconds + cpu.systemSeconds) / cpu.wallSeconds;
  return {
    bitsPerSecond,
    ofCap: bitsPerSecond / capBitsPerSecond,
    cpuPercent: cpuFraction * 100,
    cpuSecondsPerGbit: bitsPerSecond > 0 ? cpuFraction / (bitsPerSecond / 1e9) : Number.NaN,
  };
}

async function qosCapRun(
  contender: Contender,
  point: QosCapPoint,
  options: QosCapOptions,
): Promise<Measured<QosCapMetric, QosCapDetail>> {
  const cap: BandwidthCap = { bitsPerSecond: point.capBitsPerSecond, scope: point.scope };
  return withIperf3Target(({ listenPort, targetPort }) =>
    withContender(
      contender,
      listenPort,
      targetPort,
      async (running) => {
        if (running.pid === null) {
          throw BENCH_ERRORS.error('load_failed', {
            scenario: 'qos-cap',
            contender: contender.id,
            reason: 'no relay process to measure',
          });
        }
        const margin = Math.min(CPU_MARGIN_MS, (options.seconds * 1000) / 4);
        const sampler = cpuSampler(
          running.pid,
          options.omitSeconds * 1000 + margin,
          (options.omitSeconds + options.seconds) * 1000 - margin,
        );
        let cpu: CpuWindow | null = null;
        let result: Iperf3Result;
        const started = performance.now();
        try {
          result = await runIperf3({
            port: running.connectPort,
            seconds: options.seconds,
            omitSeconds: options.omitSeconds,
            parallel: point.streams,
            timeoutMs: qosClientTimeoutMs(point, options.seconds, options.omitSeconds),
          });
        } finally {
          cpu = sampler.finish();
        }
        const clientSeconds = (performance.now() - started) / 1000;
        if (result.protocol !== 'tcp') {
          throw BENCH_ERRORS.error('load_failed', {
            scenario: 'qos-cap',
            contender: contender.id,
            reason: 'not a TCP report',
          });
        }
        return {
          metrics: qosCapMetrics(point.capBitsPerSecond, result, cpu),
          detail: { iperf3: result, clientSeconds, cpu },
        };
      },
      { bandwidthCap: cap },
    ),
  );
}

function describe(m: Readonly<Record<QosCapMetric, number>>): string {
  const cpu = Number.isFinite(m.cpuPercent)
    ? `, edge CPU ${m.cpuPercent.toFixed(1)} % of a core (${m.cpuSecondsPerGbit.toFixed(3)} s per Gbit)`
    : ', edge CPU not read';
  return `${(m.bitsPerSecond / 1e6).toFixed(2)} Mbit/s = ${m.ofCap.toFixed(4)} × cap${cpu}`;
}

export async function runQosCap(ctx: ScenarioContext, options: QosCapOptions): Promise<QosCapReport> {
  const result = await runMatrix(ctx, {
    scenario: 'qos-cap',
    metrics: QOS_CAP_METRICS,
    points: qosCapPoints(options.caps, options.streams),
    pointLabel: qosCapPointLabel,
    repeats: options.repeats,
    secondsPerRun: options.seconds + options.omitSeconds,
    notApplicable: qosCapNotApplicable,
    run: (contender, point) => qosCapRun(contender, point, options),
    describe,
  });
  return {
    ...result,
    seconds: options.seconds,
    omitSeconds: options.omitSeconds,
    repeats: options.repeats,
    caps: options.caps,
    streams: options.streams,
    burstSeconds: DEFAULT_BURST_SECONDS,
    target: QOS_CAP_TARGET,
  };
}

function qosCapMarkdown(q: QosCapReport, notes: string[]): string[] {
  const rows = q.rows.map((r) => {
    const lead = [
      r.label,
      `${(r.point.capBitsPerSecond / 1e6).toFixed(0)}`,
      String(r.point.streams),
      r.point.scope,
    ];
    if (r.summary.ofCap === null) return [...lead, failedCell(r), DASH, DASH, DASH];
    return [
      ...lead,
      cell(r.summary.bitsPerSecond, 2, 1e6),
      cell(r.summary.ofCap, 4),
      cell(r.summary.cpuPercent, 1),
      cell(r.summary.cpuSecondsPerGbit, 3),
    ];
  });
  matrixNotes('qos-cap', q.rows, q.notApplicable, notes);
  const pct = `${(q.target * 100).toFixed(0)} %`;
  for (const r of q.rows) {
    const median = r.summary.ofCap?.median;
    if (median !== undefined && Math.abs(median - 1) > q.target) {
      notes.push(
        `qos-cap, ${r.contender}, ${r.pointLabel}: measured / cap ${median.toFixed(4)}, outside the ±${pct} target`,
      );
    }
  }
  const planned = q.omitSeconds + q.seconds;
  for (const r of q.rows) {
    // Older reports (and hand-made ones) may lack the client's time.
    const slowest = Math.max(...r.runs.map((run) => run.detail?.clientSeconds ?? 0));
    if (slowest > planned + QOS_SLOW_END_SECONDS) {
      notes.push(
        `qos-cap, ${r.contender}, ${r.pointLabel}: iperf3 took up to ${slowest.toFixed(0)} s for a ${planned} s test: its control connection crosses the same cap and its end message waited behind the bytes the flows still had queued (the figure stands: the receiver measures until that message arrives)`,
      );
    }
  }
  if (q.rows.length > 0) {
    notes.push(
      'qos-cap: measured / cap instead of × direct and × REDIRECT: a capped flow is meant to run at its cap, not at line rate, and neither baseline has a cap, so the ratio to the cap is the figure',
    );
  }
  const flows = q.streams === 1 ? '1 flow' : `${q.streams} flows (iperf3 -P ${q.streams})`;
  return [
    `### Bandwidth caps: measured rate / cap, iperf3 unlimited through a capped rule, ${q.seconds} s after ${q.omitSeconds} s omitted, median of ${q.repeats}`,
    '',
    `Each cap on 1 flow with the cap on the rule (\`limits = { bandwidth = CAP }\`), and on ${flows} sharing the cap of the rule's owner (\`[owners.bench] limits\`, none on the rule), summed. A cap's bucket starts full (the default burst, ${q.burstSeconds} s of rate) and the unlimited sender empties it at once, so iperf3 --omit leaves the first ${q.omitSeconds} s out of the figure, which the burst would otherwise inflate. Target: measured / cap within ±${pct}. CPU: the edge process's user + system time (all threads, so every shard) over the measured interval; CPU s per Gbit is that over the gigabits carried.`,
    '',
    ...table(
      [
        'contender',
        'cap Mbit/s',
        'flows',
        'cap on',
        'received Mbit/s',
        'measured / cap',
        'edge CPU % of a core',
        'CPU s per Gbit',
      ],
      rows,
    ),
  ];
}

function qosPoints(q: QosCapReport, metric: QosCapMetric): QosCapChartPoint[] {
  return q.rows.flatMap((row) => {
    const summary = row.summary[metric];
    // A log axis has no zero (an idle edge can read 0 ticks at a low cap).
    if (summary === null || !(summary.median > 0)) return [];
    return [
      {
        contender: row.contender,
        label: row.label,
        cap: formatBitrate(row.point.capBitsPerSecond),
        panel: qosCapFlowsLabel(row.point),
        value: summary.median,
        ...spread(summary),
      },
    ];
  });
}

/** Measured / cap, and CPU seconds per capped gigabit, against the cap. */
function qosCapCharts(q: QosCapReport, where: string): Chart[] {
  const caps = [...q.caps].sort((a, b) => a - b).map(formatBitrate);
  const panels = [
    qosCapFlowsLabel({ streams: 1, scope: 'rule' }),
    qosCapFlowsLabel({ streams: q.streams, scope: 'owner' }),
  ];
  const how = `iperf3 unlimited through a capped sluice rule, ${q.seconds} s after ${q.omitSeconds} s omitted (the initial burst), median of ${q.repeats} (whiskers: min–max)`;
  const charts: Chart[] = [];
  const accuracy = qosPoints(q, 'ofCap');
  if (accuracy.length > 0) charts.push(qosChart(QOS_ACCURACY, accuracy, caps, panels, [how, where]));
  const cpu = qosPoints(q, 'cpuSecondsPerGbit');
  if (cpu.length > 0) {
    const cpuHow = "the edge process's user + system CPU time (every thread) over the measured interval";
    charts.push(qosChart(QOS_CPU, cpu, caps, panels, [how, cpuHow, where]));
  }
  return charts;
}

export interface QosCapPlan {
  /** Bandwidth caps, bits per second; each is measured on one flow and on `qosStreams`. */
  readonly qosCaps: readonly number[];
  /** iperf3 -P for the owner cap shared by several flows. */
  readonly qosStreams: number;
  /**
   * iperf3 --omit, seconds left out before the measured `seconds`: a cap's bucket starts full
   * (the default burst is one second of rate), which would inflate the figure.
   */
  readonly qosOmitSeconds: number;
}

const QOS_CAP_PLAN: PlanParts<QosCapPlan> = {
  full: { qosCaps: [10e6, 100e6, 1e9], qosStreams: 8, qosOmitSeconds: 2 },
  quick: { qosCaps: [1e9], qosStreams: 8, qosOmitSeconds: 1 },
};

export const qosCapScenario = defineScenario({
  id: 'qos-cap',
  reportKey: 'qosCap',
  plan: QOS_CAP_PLAN,
  usesIperf3: true,
  appliesTo: (contender) => qosCapNotApplicable(contender) === null,
  // Each cap on one flow (rule cap) and on several (owner cap).
  pointsPerRepeat: (plan) => plan.qosCaps.length * 2,
  secondsPerRun: (plan) => plan.seconds + plan.qosOmitSeconds,
  run: (ctx, plan) =>
    runQosCap(ctx, {
      seconds: plan.seconds,
      repeats: plan.repeats,
      caps: plan.qosCaps,
      streams: plan.qosStreams,
      omitSeconds: plan.qosOmitSeconds,
    }),
  markdown: qosCapMarkdown,
  charts: qosCapCharts,
  failed: matrixFailed,
});
