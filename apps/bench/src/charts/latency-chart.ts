// The small-messages scenario as charts: round-trip latency percentiles per contender (a panel
// per message size, a row per connection count, a line per contender across p50, p99 and
// p99.9, log scale), and the round-trip rate per contender (a panel per message size, the
// connection counts along x).

import { type Chart, lineChartSpec } from './chart-specs.ts';
import type { SeriesKey } from './chart-theme.ts';

export interface LatencyPoint extends SeriesKey {
  /** The message size as the tables name it (`64 B`). */
  readonly size: string;
  /** The connection count as the tables name it (`100`). */
  readonly connections: string;
  /** `p50`, `p99`, `p99.9`. */
  readonly percentile: string;
  readonly microseconds: number;
}

export interface RatePoint extends SeriesKey {
  /** The message size as the tables name it (`64 B`): the panel. */
  readonly size: string;
  /** The connection count (`100`): along x. */
  readonly connections: string;
  readonly perSecond: number;
  readonly low: number | null;
  readonly high: number | null;
}

export const PERCENTILES = ['p50', 'p99', 'p99.9'] as const;

export function latencyChart(
  points: readonly LatencyPoint[],
  sizeOrder: readonly string[],
  connectionOrder: readonly string[],
  subtitle: readonly string[],
): Chart {
  const title = 'Request/response latency percentiles (lower is better)';
  return {
    id: 'latency',
    title,
    spec: lineChartSpec({
      title,
      subtitle,
      xTitle: 'percentile',
      xOrder: PERCENTILES,
      yTitle: 'round trip, µs (log)',
      yLog: true,
      data: points.map((p) => ({
        contender: p.contender,
        label: p.label,
        x: p.percentile,
        value: p.microseconds,
        low: null,
        high: null,
        panel: p.size,
        row: p.connections,
      })),
      panels: { title: 'message size', order: sizeOrder },
      ...(connectionOrder.length > 1 ? { rows: { title: 'connections', order: connectionOrder } } : {}),
      width: 150,
      height: 170,
    }),
  };
}

/** A panel per message size, connections along x, a line per contender. */
export function rateChart(
  points: readonly RatePoint[],
  sizeOrder: readonly string[],
  connectionOrder: readonly string[],
  subtitle: readonly string[],
): Chart {
  const title = 'Request/response rate (higher is better)';
  return {
    id: 'message-rate',
    title,
    spec: lineChartSpec({
      title,
      subtitle,
      xTitle: 'connections',
      xOrder: connectionOrder,
      yTitle: 'round trips/s (log)',
      yLog: true,
      data: points.map((p) => ({
        contender: p.contender,
        label: p.label,
        x: p.connections,
        value: p.perSecond,
        low: p.low,
        high: p.high,
        panel: p.size,
      })),
      panels: { title: 'message size', order: sizeOrder },
      width: 150,
      height: 260,
    }),
  };
}
