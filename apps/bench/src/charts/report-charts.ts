// The charts one bench report yields, and writing them as SVG files. Each chart appears only
// when its scenario ran and measured something: throughput against offered load (the sweep, or
// the single unlimited flow on its own), small-message latency percentiles and rate, and
// memory per idle connection, and bandwidth caps (measured / cap, and CPU per capped gigabit).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBitrate } from '@sluice/iperf3';
import type { BenchReport } from '../report.ts';
import { type QosCapMetric, qosCapFlowsLabel } from '../scenarios/qos-cap.ts';
import { sizeLabel } from '../scenarios/small-messages.ts';
import type { Summary } from '../stats.ts';
import type { Chart } from './chart-specs.ts';
import { type LatencyPoint, latencyChart, type RatePoint, rateChart } from './latency-chart.ts';
import { type MemoryPoint, memoryChart } from './memory-chart.ts';
import { type QosCapChartPoint, qosAccuracyChart, qosCpuChart } from './qos-chart.ts';
import { renderSvg } from './render-svg.ts';
import { type ThroughputPoint, throughputChart } from './throughput-chart.ts';

/** The line under every chart's title: where and when it was measured. */
function machineLine(report: BenchReport): string {
  const m = report.machine;
  return `${m.cpuModel}, ${m.cores} cores · Linux ${m.kernel} · ${report.startedAt.slice(0, 10)}${report.options.quick ? ' · quick run' : ''}`;
}

function spread(summary: Summary): { low: number | null; high: number | null } {
  return summary.n > 1 ? { low: summary.min, high: summary.max } : { low: null, high: null };
}

/** The sweep's points when it measured more than one offered load, else the single flow. */
function throughputPoints(report: BenchReport): ThroughputPoint[] {
  const sweep = report.sweep;
  if (sweep !== null && sweep.points.length > 1) {
    return sweep.rows.flatMap((row) => {
      const summary = row.summary.bitsPerSecond;
      if (summary === null) return [];
      const offeredBitsPerSecond = row.point === 0 ? null : row.point;
      return [{ contender: row.contender, label: row.label, offeredBitsPerSecond, summary }];
    });
  }
  return (report.throughput?.rows ?? []).flatMap((row) =>
    row.summary === null
      ? []
      : [{ contender: row.contender, label: row.label, offeredBitsPerSecond: null, summary: row.summary }],
  );
}

function throughputCharts(report: BenchReport, where: string): Chart[] {
  const points = throughputPoints(report);
  if (points.length === 0) return [];
  const swept = report.sweep !== null && report.sweep.points.length > 1;
  const source = swept ? report.sweep : report.throughput;
  const how = `iperf3 over 127.0.0.1, ${source?.seconds} s per run, median of ${source?.repeats} (whiskers: min–max); higher is better`;
  return [throughputChart(points, [how, where])];
}

const PERCENTILE_METRICS = [
  ['p50', 'p50Us'],
  ['p99', 'p99Us'],
  ['p99.9', 'p999Us'],
] as const;

function smallMessageCharts(report: BenchReport, where: string): Chart[] {
  const s = report.smallMessages;
  if (s === null) return [];
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
  if (rate.length > 0) {
    charts.push(rateChart(rate, sizes, connections, [how, where]));
  }
  return charts;
}

function memoryPoints(report: BenchReport): MemoryPoint[] {
  const m = report.idleMemory;
  if (m === null) return [];
  return m.byCount.flatMap(({ count, rows }) =>
    rows.flatMap((row) => {
      if (row.perConnectionKiB === null) return [];
      const s = row.summary === null ? { low: null, high: null } : spread(row.summary);
      return [
        {
          contender: row.contender,
          label: row.label,
          connections: count.connections,
          perConnectionKiB: row.perConnectionKiB,
          lowKiB: s.low,
          highKiB: s.high,
        },
      ];
    }),
  );
}

function memoryCharts(report: BenchReport, where: string): Chart[] {
  const points = memoryPoints(report);
  if (points.length === 0) return [];
  const how = `PSS of the relay and its children: growth over the idle connections held end to end, median of ${report.idleMemory?.repeats ?? 1}`;
  return [memoryChart(points, [how, where])];
}

function qosPoints(report: BenchReport, metric: QosCapMetric): QosCapChartPoint[] {
  return (report.qosCap?.rows ?? []).flatMap((row) => {
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

function qosCharts(report: BenchReport, where: string): Chart[] {
  const q = report.qosCap;
  if (q === undefined || q === null) return [];
  const caps = [...q.caps].sort((a, b) => a - b).map(formatBitrate);
  const panels = [
    qosCapFlowsLabel({ streams: 1, scope: 'rule' }),
    qosCapFlowsLabel({ streams: q.streams, scope: 'owner' }),
  ];
  const how = `iperf3 unlimited through a capped sluice rule, ${q.seconds} s after ${q.omitSeconds} s omitted (the initial burst), median of ${q.repeats} (whiskers: min–max)`;
  const charts: Chart[] = [];
  const accuracy = qosPoints(report, 'ofCap');
  if (accuracy.length > 0) charts.push(qosAccuracyChart(accuracy, caps, panels, [how, where]));
  const cpu = qosPoints(report, 'cpuSecondsPerGbit');
  if (cpu.length > 0) {
    const cpuHow = "the edge process's user + system CPU time (every thread) over the measured interval";
    charts.push(qosCpuChart(cpu, caps, panels, [how, cpuHow, where]));
  }
  return charts;
}

export function reportCharts(report: BenchReport): Chart[] {
  const where = machineLine(report);
  return [
    ...throughputCharts(report, where),
    ...smallMessageCharts(report, where),
    ...memoryCharts(report, where),
    ...qosCharts(report, where),
  ];
}

export interface WrittenChart {
  readonly id: string;
  readonly title: string;
  readonly file: string;
}

/** Renders every chart of `report` to `<dir>/<id>.svg`; returns what was written, in order. */
export async function writeCharts(report: BenchReport, dir: string): Promise<WrittenChart[]> {
  const charts = reportCharts(report);
  if (charts.length === 0) return [];
  mkdirSync(dir, { recursive: true });
  const written: WrittenChart[] = [];
  for (const chart of charts) {
    const file = join(dir, `${chart.id}.svg`);
    writeFileSync(file, await renderSvg(chart.spec));
    written.push({ id: chart.id, title: chart.title, file });
  }
  return written;
}
