// A time series chart (uPlot, canvas): bytes in and out against time. uPlot draws with the
// canvas API and sets element styles through the DOM, so the strict CSP (no inline styles in
// markup) holds. The chart is redrawn in place when the data change.

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatRate } from '../format.ts';

interface TimeChartProps {
  /** Seconds since the epoch. */
  readonly times: readonly number[];
  readonly bytesIn: readonly number[];
  readonly bytesOut: readonly number[];
  readonly label: string;
  readonly unit?: 'rate' | 'bytes';
}

export function TimeChart({ times, bytesIn, bytesOut, label, unit = 'rate' }: TimeChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);

  useEffect(() => {
    if (holder.current === null) return;
    const value = (_: uPlot, v: number | null) =>
      v === null ? '' : unit === 'rate' ? formatRate(v) : formatRate(v).replace('/s', '');
    chart.current = new uPlot(
      {
        width: Math.max(320, holder.current.clientWidth),
        height: 220,
        series: [
          {},
          { label: 'in', stroke: '#2f81f7', width: 2, value },
          { label: 'out', stroke: '#d4761c', width: 2, value },
        ],
        axes: [{}, { values: (_, ticks) => ticks.map((t) => value(_, t)), size: 80 }],
      },
      [[], [], []],
      holder.current,
    );
    return () => chart.current?.destroy();
  }, [unit]);

  useEffect(() => {
    chart.current?.setData([times as number[], bytesIn as number[], bytesOut as number[]]);
  }, [times, bytesIn, bytesOut]);

  // The peak shown, for a reader of the DOM (and the tests): it says the chart has moved.
  const peak = Math.max(0, ...bytesIn, ...bytesOut);
  return (
    <div
      ref={holder}
      class="chart"
      role="img"
      aria-label={label}
      data-points={times.length}
      data-peak={peak}
    />
  );
}
