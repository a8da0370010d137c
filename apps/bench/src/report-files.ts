// What goes beside `<out>/<timestamp>.json`: the charts as `<out>/<timestamp>/<chart>.svg`, and
// `<out>/<timestamp>.md`, the Markdown tables with the charts embedded. main.ts calls this once
// the JSON is written.

import { writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { type WrittenChart, writeCharts } from './charts/report-charts.ts';
import type { BenchReport } from './report.ts';
import { renderMarkdown } from './report-markdown.ts';

export interface ReportFiles {
  readonly charts: readonly WrittenChart[];
  readonly markdownFile: string;
  /** The charts as a Markdown section with paths relative to the working directory (for stdout). */
  readonly chartsMarkdown: string;
}

/** A `### Charts` section embedding each chart, by its path from `from` (absolute when outside it). */
export function chartsSection(charts: readonly WrittenChart[], from: string): string {
  if (charts.length === 0) return '';
  const lines = ['', '### Charts', ''];
  for (const c of charts) {
    const path = relative(from, c.file);
    lines.push(`![${c.title}](${path.startsWith('..') ? c.file : path})`, '');
  }
  return lines.join('\n');
}

export async function writeReportFiles(report: BenchReport, jsonFile: string): Promise<ReportFiles> {
  const base = jsonFile.replace(/\.json$/, '');
  const charts = await writeCharts(report, base);
  const markdownFile = `${base}.md`;
  writeFileSync(markdownFile, `${renderMarkdown(report)}${chartsSection(charts, dirname(markdownFile))}`);
  return { charts, markdownFile, chartsMarkdown: chartsSection(charts, process.cwd()) };
}
