// `pnpm bench:results` (or `./run bench:results`): a full bench run, then benchmarks/RESULTS.md
// and its charts in benchmarks/results/ rewritten from it.
//
//   pnpm bench:results                      the full plan at 1 repeat of 5 s, then the page
//   pnpm bench:results --repeats 2          flags go to sluice-bench
//   pnpm bench:results --from X.json        rewrite the page from a report already written

import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeCharts } from './charts/report-charts.ts';
import { BENCH_ERRORS } from './errors.ts';
import { REPO_ROOT, RESULTS_DIR } from './repo-paths.ts';
import type { BenchReport } from './report.ts';
import { readReport, runBench } from './report-bench-run.ts';
import { parseResultsArgs, renderResults } from './report-results.ts';
import { runMain } from './run-main.ts';
import { FULL_PLAN } from './scenarios/plan.ts';

const BENCHMARKS_DIR = join(REPO_ROOT, 'benchmarks');
const RESULTS_FILE = join(BENCHMARKS_DIR, 'RESULTS.md');
const CHARTS_DIR = join(BENCHMARKS_DIR, 'results');
const COMMAND = './run bench:results';
/**
 * What the page is made from when no flags are given: the full plan (every scenario, point and
 * contender) with 1 repeat of 5 s, about half an hour here, where 3 repeats of 10 s take about two
 * hours.
 */
const RESULTS_ARGS = ['--repeats', '1', '--duration', '5'] as const;

const log = (line: string): void => void process.stderr.write(`bench results: ${line}\n`);

async function main(): Promise<number> {
  const parsed = parseResultsArgs(process.argv.slice(2));
  const { from } = parsed;
  const benchArgs = parsed.benchArgs.length > 0 ? parsed.benchArgs : [...RESULTS_ARGS];
  let report: BenchReport;
  let exitCode = 0;
  let args: string[] | null = benchArgs;
  if (from !== null) {
    report = readReport(from);
    args = null;
  } else {
    log(`running sluice-bench ${benchArgs.join(' ')} (full run)`);
    const run = await runBench(benchArgs, RESULTS_DIR);
    log(`the run took ${Math.round(run.seconds / 60)} min; report ${run.file}`);
    report = run.report;
    exitCode = run.exitCode;
  }
  if (report.options.quick) {
    throw BENCH_ERRORS.error('bad_flag', {
      flag: '--from',
      reason: 'that report is a --quick run; RESULTS.md shows a full one',
    });
  }
  mkdirSync(CHARTS_DIR, { recursive: true });
  for (const f of readdirSync(CHARTS_DIR)) if (f.endsWith('.svg')) rmSync(join(CHARTS_DIR, f));
  const charts = await writeCharts(report, CHARTS_DIR);
  const notes: string[] = [];
  const o = report.options;
  if (o.repeats < FULL_PLAN.repeats || o.seconds < FULL_PLAN.seconds) {
    notes.push(
      `Every scenario, point and contender of the full plan, but ${o.repeats} repeat${o.repeats === 1 ? '' : 's'} of ${o.seconds} s instead of ${FULL_PLAN.repeats} of ${FULL_PLAN.seconds} s: the full plan takes about two hours on this 2-core machine, this run took ${Math.round((Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 60_000)} min.${o.repeats === 1 ? ' One run per figure, so no min–max spread: read differences of a few percent as noise.' : ''}`,
    );
  }
  if (exitCode !== 0) notes.push('Some runs failed in this run: see the notes under the tables.');
  writeFileSync(
    RESULTS_FILE,
    renderResults({
      report,
      charts: charts.map((c) => ({ title: c.title, path: relative(BENCHMARKS_DIR, c.file) })),
      command: COMMAND,
      args,
      notes,
    }),
  );
  log(
    `wrote ${relative(process.cwd(), RESULTS_FILE)} and ${charts.length} charts in ${relative(process.cwd(), CHARTS_DIR)}/`,
  );
  return 0;
}

await runMain(main);
