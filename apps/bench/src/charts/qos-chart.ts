// The qos-cap scenario as charts: measured rate over the cap per contender across the caps
// (a panel for one flow under a rule cap, one for several flows under an owner cap), and the
// edge's CPU seconds per gigabit carried at each cap, splice path against JS path.

import { type Chart, lineChartSpec } from './chart-specs.ts';
import type { SeriesKey } from './chart-theme.ts';

export interface QosCapChartPoint extends SeriesKey {
  /** The cap as iperf3 writes a bitrate (`10M`, `1G`): along x. */
  readonly cap: string;
  /** `1 flow, rule cap`, `8 flows, owner cap`: the panel. */
  readonly panel: string;
  readonly value: number;
  readonly low: number | null;
  readonly high: number | null;
}

/** What tells the two qos-cap charts apart. */
export interface QosLine {
  readonly id: string;
  readonly title: string;
  readonly yTitle: string;
  readonly yLog: boolean;
  readonly yZero?: boolean;
}

export const QOS_ACCURACY: QosLine = {
  id: 'qos-cap',
  title: 'Bandwidth caps: measured rate / cap (1 is exact)',
  yTitle: 'measured / cap (median)',
  yLog: false,
  // The figures sit within a few percent of 1: from zero they would be one flat line.
  yZero: false,
};

export const QOS_CPU: QosLine = {
  id: 'qos-cpu',
  title: 'Bandwidth caps: edge CPU seconds per capped gigabit (lower is better)',
  yTitle: 'CPU s per Gbit carried (log)',
  // Log: at a low cap the fixed cost of timers and wake-ups dominates.
  yLog: true,
};

/** One line per contender across the caps, a panel per flow count. */
export function qosChart(
  line: QosLine,
  points: readonly QosCapChartPoint[],
  capOrder: readonly string[],
  panelOrder: readonly string[],
  subtitle: readonly string[],
): Chart {
  return {
    id: line.id,
    title: line.title,
    spec: lineChartSpec({
      title: line.title,
      subtitle,
      xTitle: 'cap',
      xOrder: capOrder,
      yTitle: line.yTitle,
      yLog: line.yLog,
      ...(line.yZero === undefined ? {} : { yZero: line.yZero }),
      data: points.map((p) => ({ ...p, x: p.cap })),
      panels: { title: 'flows', order: panelOrder },
      width: 260,
      height: 260,
    }),
  };
}
