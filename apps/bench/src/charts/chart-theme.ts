// What every chart shares: fonts, sizes, and one colour per contender that stays the same from
// chart to chart (baselines in greys and browns, sluice in blues and greens, peers in warm
// colours), so a reader learns the legend once.

import type { Config } from 'vega-lite';

export const CHART_CONFIG: Config = {
  background: 'white',
  padding: 12,
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  title: { fontSize: 15, anchor: 'start', subtitleFontSize: 12, subtitleColor: '#555', offset: 12 },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6', titlePadding: 8 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, symbolStrokeWidth: 2.5 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: '#ccc' },
};

/** Fixed colours for the contenders the bench knows; others take the fallback palette in order. */
const CONTENDER_COLORS: Readonly<Record<string, string>> = {
  direct: '#222222',
  redirect: '#8c8c8c',
  'c-splice': '#8c564b',
  'naive-pipe': '#c49c94',
  'sluice-splice-1': '#08519c',
  'sluice-splice-N': '#6baed6',
  'sluice-js-1': '#238b45',
  'sluice-js-N': '#74c476',
  haproxy: '#e6550d',
  nginx: '#d62728',
  socat: '#9467bd',
};

const FALLBACK_COLORS = ['#bcbd22', '#17becf', '#e377c2', '#7f7f7f', '#ff9896', '#aec7e8'];

export interface SeriesKey {
  readonly contender: string;
  readonly label: string;
}

/**
 * A colour scale over the contenders' labels in the order given (the table order), so every
 * chart draws `sluice-splice-1` in the same blue whatever else it shows.
 */
export function contenderColorScale(series: readonly SeriesKey[]): { domain: string[]; range: string[] } {
  const domain: string[] = [];
  const range: string[] = [];
  let fallback = 0;
  for (const s of series) {
    if (domain.includes(s.label)) continue;
    domain.push(s.label);
    range.push(
      CONTENDER_COLORS[s.contender] ?? FALLBACK_COLORS[fallback++ % FALLBACK_COLORS.length] ?? '#7f7f7f',
    );
  }
  return { domain, range };
}

/** The distinct series in first-seen order. */
export function distinctSeries(points: readonly SeriesKey[]): SeriesKey[] {
  const seen = new Map<string, SeriesKey>();
  for (const p of points)
    if (!seen.has(p.contender)) seen.set(p.contender, { contender: p.contender, label: p.label });
  return [...seen.values()];
}
