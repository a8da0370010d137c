// The charts one bench report yields, and writing them as SVG files. Each scenario draws its own
// (scenarios/registry.ts) when it ran and measured something; a later scenario's chart replaces
// an earlier one of the same id (the sweep's throughput against offered load replaces the single
// flow's bars).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport } from '../report.ts';
import { SCENARIO_LIST } from '../scenarios/registry.ts';
import type { Chart } from './chart-specs.ts';
import { renderSvg } from './render-svg.ts';

/** The line under every chart's title: where and when it was measured. */
function machineLine(report: BenchReport): string {
  const m = report.machine;
  return `${m.cpuModel}, ${m.cores} cores · Linux ${m.kernel} · ${report.startedAt.slice(0, 10)}${report.options.quick ? ' · quick run' : ''}`;
}

export function reportCharts(report: BenchReport): Chart[] {
  const where = machineLine(report);
  const charts: Chart[] = [];
  for (const scenario of SCENARIO_LIST) {
    for (const chart of scenario.charts(report, where)) {
      const earlier = charts.findIndex((c) => c.id === chart.id);
      if (earlier === -1) charts.push(chart);
      else charts[earlier] = chart;
    }
  }
  return charts;
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
