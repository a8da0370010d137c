// The report as Markdown for stdout: one table per scenario, then notes (skips, failures).

import type { BenchReport } from './report.ts';
import { scenarioTables } from './scenarios/tables.ts';
import type { ThroughputReport } from './scenarios/throughput.ts';

const DASH = '–';

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(digits);
}

const gbits = (bitsPerSecond: number | null | undefined): string =>
  fixed(bitsPerSecond === null || bitsPerSecond === undefined ? null : bitsPerSecond / 1e9, 2);

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function table(
  header: readonly string[],
  align: readonly ('l' | 'r')[],
  rows: readonly string[][],
): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '--:' : '---'))), ...rows.map(line)];
}

function throughputSection(t: ThroughputReport, notes: string[]): string[] {
  const rows = t.rows.map((row) => {
    const ok = row.runs.filter((r) => r.error === null).length;
    for (const run of row.runs) {
      if (run.error !== null) {
        notes.push(
          `throughput, ${row.contender}, run ${run.repeat}: ${run.error.code}: ${firstLine(run.error.message)}`,
        );
      }
    }
    if (row.summary === null) {
      const code = row.runs.find((r) => r.error !== null)?.error?.code ?? 'no runs';
      return [row.label, `failed (${code})`, DASH, DASH, DASH];
    }
    const partial = ok < row.runs.length ? ` (${ok}/${row.runs.length} runs)` : '';
    return [
      row.label,
      `${gbits(row.summary.median)}${partial}`,
      `${gbits(row.summary.min)} ${DASH} ${gbits(row.summary.max)}`,
      fixed(row.vsDirect, 2),
      fixed(row.vsRedirect, 2),
    ];
  });
  return [
    `### Single TCP flow: iperf3, ${t.seconds} s, median of ${t.repeats}`,
    '',
    ...table(['contender', 'Gbit/s', 'min – max', '× direct', '× REDIRECT'], ['l', 'r', 'r', 'r', 'r'], rows),
  ];
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
  if (report.throughput !== null) out.push(...throughputSection(report.throughput, notes), '');
  // The other scenarios' tables (idle memory at every count among them) come from scenarios/tables.ts.
  const tables = scenarioTables(report);
  out.push(...tables.lines);
  notes.push(...tables.notes);
  if (notes.length > 0) out.push('Notes:', '', ...notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
