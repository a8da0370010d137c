// sluice-bench: sluice next to direct, iptables REDIRECT, a C splice relay, a naive pipe proxy,
// HAProxy, nginx stream and socat, on this host, in one run. Markdown to stdout, progress to
// stderr, JSON to benchmarks/out/.

import { findIperf3 } from '@sluice/iperf3';
import { Command } from 'commander';
import { installCleanupHandlers } from './cleanup.ts';
import { resolveOptions } from './cli-options.ts';
import type { Contender } from './contender.ts';
import { CONTENDER_IDS, CONTENDERS } from './contenders/index.ts';
import { BENCH_ERRORS } from './errors.ts';
import { machineInfo } from './machine-info.ts';
import { createProgress } from './progress.ts';
import { RESULTS_DIR } from './repo-paths.ts';
import type { BenchReport, ContenderEntry } from './report.ts';
import { REPORT_FORMAT_VERSION, writeJsonReport } from './report.ts';
import { writeReportFiles } from './report-files.ts';
import { renderMarkdown } from './report-markdown.ts';
import { runMain } from './run-main.ts';
import {
  runScenarios,
  runsFailed,
  SCENARIO_IDS,
  type ScenarioId,
  scenarioById,
} from './scenarios/registry.ts';
import type { ScenarioContext } from './scenarios/scenario.ts';
import { installHint } from './tools.ts';

const program = new Command('sluice-bench')
  .description(
    'Benchmarks sluice against direct, iptables REDIRECT, a C splice relay, a naive pipe proxy, HAProxy, nginx stream and socat',
  )
  .option('--quick', 'short runs: 2 s, 1 repeat, fewer offered loads, sizes and connection counts')
  .option('--only <scenarios>', `run only these scenarios (${SCENARIO_IDS.join(', ')})`)
  .option('--contenders <ids>', `comma-separated contenders (${CONTENDER_IDS.join(', ')})`)
  .option('--duration <seconds>', 'seconds per measured run (default 10, quick 2)')
  .option('--repeats <n>', 'runs per contender and point (default 3, quick 1)')
  .option(
    '--connections <counts>',
    'idle connections for idle-memory, comma-separated (default 1000,4000,10000)',
  )
  .option('--out <dir>', 'directory for the JSON report', RESULTS_DIR)
  .showHelpAfterError();

async function main(): Promise<number> {
  program.parse();
  const flags = program.opts<{
    quick?: boolean;
    only?: string;
    contenders?: string;
    duration?: string;
    repeats?: string;
    connections?: string;
    out: string;
  }>();
  const options = resolveOptions(flags, CONTENDER_IDS);
  const progress = createProgress({
    stream: process.stderr,
    prefix: 'sluice-bench: ',
    scenarios: options.scenarios.length,
  });
  const log = progress.log;
  installCleanupHandlers(log);

  if (findIperf3() === null && options.scenarios.some((id) => scenarioById(id).usesIperf3)) {
    throw BENCH_ERRORS.error('tool_missing', { tool: 'iperf3', install: installHint('iperf3') });
  }
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(`${machine.cpuModel}, ${machine.cores} cores, Linux ${machine.kernel}, Node ${machine.node}`);

  const chosen = CONTENDERS.filter((c) => options.contenders.includes(c.id));
  const entries: ContenderEntry[] = [];
  const available: Contender[] = [];
  for (const contender of chosen) {
    const skipped = await contender.unavailableReason();
    if (skipped === null) available.push(contender);
    else log(`${contender.id}: skipped: ${skipped}`);
    entries.push({
      id: contender.id,
      label: contender.label,
      relay: contender.relay,
      description: contender.description,
      skipped,
    });
  }

  const ctx: ScenarioContext = { contenders: available, log, onStep: progress.onStep };
  const scenarioSeconds: Partial<Record<ScenarioId, number>> = {};
  const timed = async <T>(id: ScenarioId, body: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await body();
    } finally {
      scenarioSeconds[id] = Math.round((performance.now() - started) / 100) / 10;
      log(`${id}: done in ${scenarioSeconds[id]} s`);
    }
  };

  const reports = await runScenarios(ctx, options.plan, options.scenarios, timed);
  progress.stop();

  const report: BenchReport = {
    formatVersion: REPORT_FORMAT_VERSION,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    options,
    contenders: entries,
    scenarioSeconds,
    ...reports,
  };
  process.stdout.write(renderMarkdown(report));
  const file = writeJsonReport(report, flags.out);
  log(`JSON report: ${file}`);
  // Charts (SVG) and the Markdown that embeds them, beside the JSON (report-files.ts).
  const extras = await writeReportFiles(report, file);
  process.stdout.write(extras.chartsMarkdown);
  log(
    `charts: ${extras.charts.length} SVG in ${file.replace(/\.json$/, '/')}; Markdown with charts: ${extras.markdownFile}`,
  );
  const seconds = Math.round((Date.parse(report.finishedAt) - Date.parse(startedAt)) / 1000);
  log(`${options.scenarios.length} scenario(s) in ${seconds} s`);

  const failed = runsFailed(report);
  if (failed) log('some runs failed: see the notes under the tables');
  return failed ? 1 : 0;
}

await runMain(main);
