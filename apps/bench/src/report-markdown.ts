// The report as Markdown for stdout: one section per scenario that ran, in the registry's order,
// then notes (skips, failures).

import type { BenchReport } from './report.ts';
import { SCENARIO_LIST, type ScenarioReports } from './scenarios/registry.ts';

/** Every scenario's section present in `reports`, in suite order, and their notes. */
export function scenarioTables(reports: Partial<ScenarioReports>): { lines: string[]; notes: string[] } {
  const lines: string[] = [];
  const notes: string[] = [];
  for (const scenario of SCENARIO_LIST) {
    const section = scenario.markdown(reports, notes);
    if (section.length > 0) lines.push(...section, '');
  }
  return { lines, notes };
}

function shortVersion(line: string | null, pattern: RegExp): string | null {
  if (line === null) return null;
  return pattern.exec(line)?.[1] ?? line;
}

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const tools = [
    `iperf3 ${shortVersion(m.iperf3, /iperf (\S+)/) ?? 'missing'}`,
    `HAProxy ${shortVersion(m.haproxy, /version (\S+)/) ?? 'missing'}`,
    `nginx ${shortVersion(m.nginx, /nginx\/(\S+)/) ?? 'missing'}`,
    `socat ${shortVersion(m.socat, /version (\S+)/) ?? 'missing'}`,
  ];
  const out: string[] = [
    `## sluice-bench ${report.startedAt}${report.options.quick ? ' (quick)' : ''}`,
    '',
    `${m.cpuModel}, ${m.cores} cores, ${Math.round(m.memoryMiB / 1024)} GiB · Linux ${m.kernel} · Node ${m.node} · ${tools.join(' · ')}${m.commit ? ` · ${m.commit}` : ''}`,
    '',
  ];
  const notes: string[] = [];
  for (const c of report.contenders) {
    if (c.skipped !== null) notes.push(`${c.id}: skipped: ${c.skipped}`);
  }
  const tables = scenarioTables(report);
  out.push(...tables.lines);
  notes.push(...tables.notes);
  if (notes.length > 0) out.push('Notes:', '', ...notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
