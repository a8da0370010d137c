// sluice-bench: sluice next to direct iperf3, iptables REDIRECT, a naive pipe proxy and HAProxy,
// on this host, in one run. Markdown to stdout, progress to stderr, JSON to benchmarks/out/.

import { Command } from 'commander';
import { installCleanupHandlers } from './cleanup.ts';
import { resolveOptions } from './cli-options.ts';
import type { Contender } from './contender.ts';
import { CONTENDER_IDS, CONTENDERS } from './contenders/index.ts';
import { BenchError } from './errors.ts';
import { machineInfo } from './machine-info.ts';
import type { BenchReport, ContenderEntry } from './report.ts';
import { REPORT_FORMAT_VERSION, writeJsonReport } from './report.ts';
import { renderMarkdown } from './report-markdown.ts';
import { RESULTS_DIR } from './repo-paths.ts';
import { type IdleMemoryReport, runIdleMemory } from './scenarios/idle-memory.ts';
import { SCENARIO_IDS } from './scenarios/scenario.ts';
import { runThroughput, type ThroughputReport } from './scenarios/throughput.ts';
import { findExecutable } from './tools.ts';

const log = (line: string): void => void process.stderr.write(`sluice-bench: ${line}\n`);

const program = new Command('sluice-bench')
  .description('Benchmarks sluice against direct iperf3, iptables REDIRECT, a naive pipe proxy and HAProxy')
  .option('--quick', 'short runs: 3 s, 1 repeat')
  .option('--only <scenarios>', `run only these scenarios (${SCENARIO_IDS.join(', ')})`)
  .option('--contenders <ids>', `comma-separated contenders (${CONTENDER_IDS.join(', ')})`)
  .option('--duration <seconds>', 'seconds per throughput run (default 10, quick 3)')
  .option('--repeats <n>', 'throughput runs per contender (default 3, quick 1)')
  .option('--connections <n>', 'idle connections for idle-memory (default 4000)')
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
  installCleanupHandlers(log);

  if (findExecutable('iperf3') === null && options.scenarios.includes('throughput')) {
    throw new BenchError('tool_missing', { tool: 'iperf3', install: 'apt-get install iperf3' });
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

  const ctx = { contenders: available, log };
  let throughput: ThroughputReport | null = null;
  let idleMemory: IdleMemoryReport | null = null;
  if (options.scenarios.includes('throughput')) {
    throughput = await runThroughput(ctx, { seconds: options.seconds, repeats: options.repeats });
  }
  if (options.scenarios.includes('idle-memory')) {
    idleMemory = await runIdleMemory(ctx, { connections: options.connections });
  }

  const report: BenchReport = {
    formatVersion: REPORT_FORMAT_VERSION,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    options,
    contenders: entries,
    throughput,
    idleMemory,
  };
  process.stdout.write(renderMarkdown(report));
  const file = writeJsonReport(report, flags.out);
  log(`JSON report: ${file}`);

  const failed =
    (throughput?.rows.some((r) => r.runs.some((run) => run.error !== null)) ?? false) ||
    (idleMemory?.rows.some((r) => r.error !== null) ?? false);
  if (failed) log('some runs failed: see the notes under the tables');
  return failed ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  if (err instanceof BenchError) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    throw err;
  }
}
