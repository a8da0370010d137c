// RSS per idle relayed connection per contender: lines over the connection counts when several
// were measured, one bar per contender when one was.

import { barChartSpec, type Chart, lineChartSpec } from './chart-specs.ts';
import type { SeriesKey } from './chart-theme.ts';

export interface MemoryPoint extends SeriesKey {
  /** Idle connections held open end to end when the RSS was read. */
  readonly connections: number;
  readonly perConnectionKiB: number;
  /** The spread over repeats, when there were repeats. */
  readonly lowKiB?: number | null;
  readonly highKiB?: number | null;
}

/** `1k`, `4k`, `10k`, `500`. */
export function connectionsLabel(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

export function memoryChart(points: readonly MemoryPoint[], subtitle: readonly string[]): Chart {
  const counts = [...new Set(points.map((p) => p.connections))].sort((a, b) => a - b);
  const title = 'Memory per idle connection (lower is better)';
  if (counts.length <= 1) {
    return {
      id: 'memory',
      title,
      spec: barChartSpec({
        title,
        subtitle,
        valueTitle: `KiB per connection, ${counts[0] ?? 0} connections open`,
        format: '.2f',
        data: points.map((p) => ({
          contender: p.contender,
          label: p.label,
          value: p.perConnectionKiB,
          low: p.lowKiB ?? null,
          high: p.highKiB ?? null,
        })),
      }),
    };
  }
  return {
    id: 'memory',
    title,
    spec: lineChartSpec({
      title,
      subtitle,
      xTitle: 'idle connections open end to end',
      xOrder: counts.map(connectionsLabel),
      yTitle: 'KiB per connection (log)',
      // Log: a relay with a process per connection (socat) costs ten times the others.
      yLog: true,
      data: points.map((p) => ({
        contender: p.contender,
        label: p.label,
        x: connectionsLabel(p.connections),
        value: p.perConnectionKiB,
        low: p.lowKiB ?? null,
        high: p.highKiB ?? null,
      })),
      width: 420,
    }),
  };
}
