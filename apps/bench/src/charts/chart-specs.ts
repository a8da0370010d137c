// The two chart shapes the bench draws, as Vega-Lite specs: horizontal bars (one figure per
// contender, with its min–max spread) and lines over an ordered x (offered load, percentile,
// connection count), optionally in panels. The chart modules map report rows onto these.

import type { TopLevelSpec } from 'vega-lite';
import type { Summary } from '../stats.ts';
import { CHART_CONFIG, contenderColorScale, distinctSeries, type SeriesKey } from './chart-theme.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The whiskers of a summary: its min–max over repeats, none for a single run. */
export function spread(summary: Summary): { low: number | null; high: number | null } {
  return summary.n > 1 ? { low: summary.min, high: summary.max } : { low: null, high: null };
}

/** One chart of a report: `id` names its file (`<id>.svg`). */
export interface Chart {
  readonly id: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

export interface ChartText {
  readonly title: string;
  /** One or more lines under the title: what was measured, how often, on what. */
  readonly subtitle: readonly string[];
}

export interface BarDatum extends SeriesKey {
  readonly value: number;
  /** The spread over repeats; null when there was one run. */
  readonly low: number | null;
  readonly high: number | null;
}

export interface BarChartInput extends ChartText {
  readonly valueTitle: string;
  /** d3-format for the value printed at the end of each bar (`.2f`). */
  readonly format: string;
  readonly data: readonly BarDatum[];
}

/** One horizontal bar per contender (in the order given), whiskers from low to high, value printed. */
export function barChartSpec(input: BarChartInput): TopLevelSpec {
  const series = distinctSeries(input.data);
  const values = input.data.map((d) => ({
    label: d.label,
    value: d.value,
    low: d.low ?? d.value,
    high: d.high ?? d.value,
  }));
  const y = {
    field: 'label',
    type: 'nominal' as const,
    sort: series.map((s) => s.label),
    title: null,
    axis: { labelLimit: 260 },
  };
  return {
    $schema: SCHEMA,
    config: CHART_CONFIG,
    title: { text: input.title, subtitle: [...input.subtitle] },
    width: 480,
    height: { step: 26 },
    data: { values },
    layer: [
      {
        mark: { type: 'bar', height: { band: 0.7 } },
        encoding: {
          y,
          x: { field: 'value', type: 'quantitative', title: input.valueTitle },
          color: { field: 'label', type: 'nominal', scale: contenderColorScale(series), legend: null },
        },
      },
      {
        mark: { type: 'rule', color: '#333', strokeWidth: 1.5 },
        encoding: { y, x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } },
      },
      {
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 5, fontSize: 11 },
        encoding: {
          y,
          x: { field: 'high', type: 'quantitative' },
          text: { field: 'value', type: 'quantitative', format: input.format },
        },
      },
    ],
  };
}

export interface LineDatum extends SeriesKey {
  /** The x category (`1G`, `p99`, `4k`). */
  readonly x: string;
  readonly value: number;
  readonly low: number | null;
  readonly high: number | null;
  /** The panel it is drawn in (`64 B`), when the chart has panels. */
  readonly panel?: string;
  /** The row of panels (`100 connections`), when the panels have rows. */
  readonly row?: string;
}

export interface LineChartInput extends ChartText {
  readonly xTitle: string;
  /** Every x category in axis order. */
  readonly xOrder: readonly string[];
  readonly yTitle: string;
  readonly yLog: boolean;
  /** A linear y axis starts at zero unless this is false (a ratio near 1 is then readable). */
  readonly yZero?: boolean;
  readonly data: readonly LineDatum[];
  /** A dashed grey line drawn under the series (the offered load, say), with its legend text. */
  readonly reference?: { readonly label: string; readonly points: readonly { x: string; value: number }[] };
  /** Panels side by side, in this order, titled by `title`. */
  readonly panels?: { readonly title: string; readonly order: readonly string[] };
  /** Rows of panels, in this order (needs `panels`). */
  readonly rows?: { readonly title: string; readonly order: readonly string[] };
  readonly width?: number;
  readonly height?: number;
}

/** One line per contender over ordered x categories; whiskers for the spread; optional panels. */
export function lineChartSpec(input: LineChartInput): TopLevelSpec {
  const series = distinctSeries(input.data);
  const values = input.data.map((d) => ({
    label: d.label,
    x: d.x,
    value: d.value,
    low: d.low ?? d.value,
    high: d.high ?? d.value,
    panel: d.panel ?? '',
    row: d.row ?? '',
    kind: 'series',
  }));
  const referenceValues = (input.reference?.points ?? []).map((p) => ({
    label: input.reference?.label ?? '',
    x: p.x,
    value: p.value,
    kind: 'reference',
  }));
  const x = {
    field: 'x',
    type: 'ordinal' as const,
    sort: [...input.xOrder],
    title: input.xTitle,
    axis: { labelAngle: 0 },
  };
  const yScale = input.yLog ? { type: 'log' as const } : { zero: input.yZero ?? true };
  const color = {
    field: 'label',
    type: 'nominal' as const,
    scale: contenderColorScale(series),
    title: 'contender',
    sort: series.map((s) => s.label),
  };
  const layers = [
    ...(referenceValues.length > 0 && input.panels === undefined
      ? [
          {
            data: { values: referenceValues },
            mark: { type: 'line' as const, color: '#999', strokeDash: [5, 4], strokeWidth: 1.5 },
            encoding: { x, y: { field: 'value', type: 'quantitative' as const } },
          },
          {
            data: { values: referenceValues.slice(-1) },
            mark: {
              type: 'text' as const,
              color: '#777',
              align: 'left' as const,
              dx: 4,
              dy: -8,
              fontSize: 11,
            },
            encoding: {
              x,
              y: { field: 'value', type: 'quantitative' as const },
              text: { field: 'label', type: 'nominal' as const },
            },
          },
        ]
      : []),
    {
      mark: { type: 'rule' as const, strokeWidth: 1.5, opacity: 0.7 },
      encoding: {
        x,
        y: { field: 'low', type: 'quantitative' as const },
        y2: { field: 'high' },
        color,
      },
    },
    {
      mark: { type: 'line' as const, strokeWidth: 2.2, point: { size: 45, filled: true } },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative' as const, title: input.yTitle, scale: yScale },
        color,
      },
    },
  ];
  const size = { width: input.width ?? 560, height: input.height ?? 340 };
  if (input.panels === undefined) {
    return {
      $schema: SCHEMA,
      config: CHART_CONFIG,
      title: { text: input.title, subtitle: [...input.subtitle] },
      data: { values },
      ...size,
      layer: layers,
    };
  }
  return {
    $schema: SCHEMA,
    config: CHART_CONFIG,
    title: { text: input.title, subtitle: [...input.subtitle] },
    data: { values },
    facet: {
      column: {
        field: 'panel',
        type: 'ordinal',
        sort: [...input.panels.order],
        title: input.panels.title,
      },
      ...(input.rows === undefined
        ? {}
        : { row: { field: 'row', type: 'ordinal', sort: [...input.rows.order], title: input.rows.title } }),
    },
    resolve: { scale: { y: 'shared' } },
    spec: { ...size, layer: layers },
  };
}
