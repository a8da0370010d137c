// Throughput per contender against the offered load (iperf3 --bitrate): lines over the sweep's
// bitrates when there is a sweep; one bar per contender when there is only the single
// unlimited flow.

import type { Summary } from '../stats.ts';
import { barChartSpec, type Chart, lineChartSpec } from './chart-specs.ts';
import type { SeriesKey } from './chart-theme.ts';

export interface ThroughputPoint extends SeriesKey {
  /** The offered load in bits per second; null for an unlimited flow. */
  readonly offeredBitsPerSecond: number | null;
  /** Received bits per second over the repeats. */
  readonly summary: Summary;
}

const UNITS = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'K'],
] as const;

/** `100M`, `2.5G`, `unlimited`: how iperf3's --bitrate reads. */
export function offeredLabel(bitsPerSecond: number | null): string {
  if (bitsPerSecond === null) return 'unlimited';
  for (const [scale, unit] of UNITS) {
    if (bitsPerSecond >= scale) return `${Number((bitsPerSecond / scale).toPrecision(3))}${unit}`;
  }
  return String(bitsPerSecond);
}

const gbit = (bitsPerSecond: number): number => bitsPerSecond / 1e9;

/** What the throughput chart says under its title, from the sweep's or the single flow's report. */
export function throughputChartLine(source: { readonly seconds: number; readonly repeats: number }): string {
  return `iperf3 over 127.0.0.1, ${source.seconds} s per run, median of ${source.repeats} (whiskers: min–max); higher is better`;
}

export function throughputChart(points: readonly ThroughputPoint[], subtitle: readonly string[]): Chart {
  const offered = [...new Set(points.map((p) => p.offeredBitsPerSecond))].sort(
    (a, b) => (a ?? Number.POSITIVE_INFINITY) - (b ?? Number.POSITIVE_INFINITY),
  );
  if (offered.length <= 1) {
    const title = 'Single TCP flow through each contender';
    return {
      id: 'throughput',
      title,
      spec: barChartSpec({
        title,
        subtitle,
        valueTitle: 'received Gbit/s (median; whiskers: min–max)',
        format: '.2f',
        data: points.map((p) => ({
          contender: p.contender,
          label: p.label,
          value: gbit(p.summary.median),
          low: p.summary.n > 1 ? gbit(p.summary.min) : null,
          high: p.summary.n > 1 ? gbit(p.summary.max) : null,
        })),
      }),
    };
  }
  const title = 'Throughput against offered load, one TCP flow';
  const finite = offered.filter((o): o is number => o !== null);
  return {
    id: 'throughput',
    title,
    spec: lineChartSpec({
      title,
      subtitle,
      xTitle: 'offered load (iperf3 --bitrate)',
      xOrder: offered.map(offeredLabel),
      yTitle: 'received Gbit/s (median)',
      // Linear: the part worth seeing is where each contender stops keeping up, near the top.
      yLog: false,
      data: points.map((p) => ({
        contender: p.contender,
        label: p.label,
        x: offeredLabel(p.offeredBitsPerSecond),
        value: gbit(p.summary.median),
        low: p.summary.n > 1 ? gbit(p.summary.min) : null,
        high: p.summary.n > 1 ? gbit(p.summary.max) : null,
      })),
      reference: { label: 'offered', points: finite.map((o) => ({ x: offeredLabel(o), value: gbit(o) })) },
    }),
  };
}
