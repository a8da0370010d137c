// benchmarks/RESULTS.md: the latest full run on the development machine, as a page to read on
// its own: how to regenerate it, what it ran on (machine, kernel, versions, date), the charts,
// then the tables. Pure: report-results-main.ts runs the bench and writes the files.

import { BENCH_ERRORS } from './errors.ts';
import type { BenchReport } from './report.ts';
import { renderMarkdown } from './report-markdown.ts';

export interface ResultsInput {
  readonly report: BenchReport;
  /** Charts with paths relative to RESULTS.md. */
  readonly charts: readonly { readonly title: string; readonly path: string }[];
  /** The command that regenerates the page. */
  readonly command: string;
  /** The sluice-bench flags the run used, beyond the defaults; null when not known. */
  readonly args: readonly string[] | null;
  /** Anything the reader should know about how this run differs from the defaults. */
  readonly notes: readonly string[];
}

const MACHINE_FIELDS = new Set([
  'hostname',
  'cpuModel',
  'cores',
  'memoryMiB',
  'kernel',
  'kernelVersion',
  'node',
  'commit',
]);

function minutes(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? `${Math.round(ms / 60_000)} min` : 'unknown';
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

export function renderResults(input: ResultsInput): string {
  const { report } = input;
  const m = report.machine;
  const o = report.options;
  const rows: [string, string][] = [
    ['date', `${report.startedAt} to ${report.finishedAt} (${minutes(report.startedAt, report.finishedAt)})`],
    ['CPU', `${m.cpuModel}, ${m.cores} cores`],
    ['memory', `${Math.round(m.memoryMiB / 1024)} GiB`],
    ['kernel', `Linux ${m.kernel} (${m.kernelVersion})`],
    ['Node', m.node],
  ];
  for (const [key, value] of Object.entries(m)) {
    if (MACHINE_FIELDS.has(key)) continue;
    rows.push([key, typeof value === 'string' ? value : 'not installed']);
  }
  rows.push(
    ['sluice commit', m.commit ?? 'unknown'],
    ...(input.args === null
      ? []
      : ([['sluice-bench flags', input.args.length === 0 ? '(defaults)' : input.args.join(' ')]] as [
          string,
          string,
        ][])),
    ['scenarios', o.scenarios.join(', ')],
    [
      'runs',
      `${o.seconds} s per measured run, ${o.repeats} repeat${o.repeats === 1 ? '' : 's'}; idle connections ${o.plan.idleConnections.join(', ')}`,
    ],
  );
  const out = [
    '# sluice-bench: latest full run',
    '',
    `The latest full (not \`--quick\`) run of \`sluice-bench\` on the development machine, every contender on`,
    'the same host in one run. Absolute figures drift on a shared machine; compare within this page,',
    'and read the ratios (to direct iperf3, to iptables REDIRECT, to HAProxy) first.',
    '',
    `Regenerate with \`${input.command}\` (it runs the bench, then rewrites this page and`,
    '`benchmarks/results/*.svg`). The JSON with every raw run is kept in `benchmarks/out/` (not committed).',
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`),
    '',
  ];
  if (input.notes.length > 0) out.push(...input.notes.map((n) => `> ${n}`), '');
  if (input.charts.length > 0) {
    out.push('## Charts', '');
    for (const c of input.charts) out.push(`![${c.title}](${c.path})`, '');
  }
  out.push('## Tables', '', renderMarkdown(report).replace(/^## .*\n\n.*\n\n/, ''));
  return `${out.join('\n').trimEnd()}\n`;
}

/** `--from FILE` and the flags for sluice-bench; `--quick` is refused (this page is the full run). */
export function parseResultsArgs(argv: readonly string[]): { from: string | null; benchArgs: string[] } {
  const benchArgs: string[] = [];
  let from: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    if (arg === '--from') {
      from = argv[++i] ?? null;
      if (from === null)
        throw BENCH_ERRORS.error('bad_flag', { flag: '--from', reason: 'needs a JSON report' });
    } else if (arg === '--quick' || arg === '--out') {
      throw BENCH_ERRORS.error('bad_flag', {
        flag: arg,
        reason: 'RESULTS.md is a full run written to benchmarks/out/',
      });
    } else {
      benchArgs.push(arg);
    }
  }
  return { from, benchArgs };
}
