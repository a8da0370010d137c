// `pnpm bench:gate`: runs the quick bench suite restricted to what benchmarks/gates.json needs
// (each gated scenario once, with only the contenders its gates compare), and exits 1 listing
// every ratio below its floor (0 when all are met). Each run's reports go to
// benchmarks/out/gate/<timestamp>/, with the verdict in verdict.json.
//
//   pnpm bench:gate                                   run the suite once and judge it
//   (a gate below its floor is run once more and fails only when the retry is below it too;
//   --no-retry fails on the first run)
//   pnpm bench:gate --report benchmarks/out/gate/T    judge a run already written (a directory
//                                                     of reports, or one JSON report)
//   pnpm bench:gate --calibrate --runs 5              run it 5 times; print medians, spread, floors
//   pnpm bench:gate --calibrate --report DIR1,DIR2    the same over runs already written

import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import type { ControlPlaneReport } from './control-plane/report.ts';
import { BENCH_ERRORS } from './errors.ts';
import {
  evaluateGates,
  formatVerdict,
  type GatesFile,
  gateNeeds,
  mergeRetry,
  parseGatesFile,
} from './gate.ts';
import { calibrate, formatCalibration } from './gate-calibrate.ts';
import { CONTROL_PLANE_SCENARIO, runLookup, unknownMetrics } from './gate-metrics.ts';
import { REPO_ROOT, RESULTS_DIR } from './repo-paths.ts';
import { type BenchReport, fileTimestamp } from './report.ts';
import {
  isControlPlaneReport,
  readControlPlaneReport,
  readReport,
  runBench,
  runControlBench,
} from './report-bench-run.ts';
import { runMain } from './run-main.ts';

export const GATES_FILE = join(REPO_ROOT, 'benchmarks', 'gates.json');
const GATE_OUT_DIR = join(RESULTS_DIR, 'gate');

const log = (line: string): void => void process.stderr.write(`bench gate: ${line}\n`);

function loadGates(file: string): GatesFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw BENCH_ERRORS.error('gates_file_invalid', {
      file,
      reason: err instanceof Error ? err.message : String(err),
    });
  }
  const gates = parseGatesFile(text, file);
  const unknown = unknownMetrics(gates.gates);
  if (unknown[0] !== undefined) throw BENCH_ERRORS.error('gates_file_invalid', { file, reason: unknown[0] });
  return gates;
}

/** The sluice-bench flags for each scenario the gates need, in the order the gates name them. */
export function suiteRuns(gates: GatesFile): { scenario: string; args: string[] }[] {
  const dataPlane = gates.gates.filter((g) => g.scenario !== CONTROL_PLANE_SCENARIO);
  return gateNeeds(dataPlane).map(({ scenario, contenders }) => ({
    scenario,
    args: [
      ...gates.suite.args,
      ...(gates.suite.scenario_args?.[scenario] ?? []),
      '--only',
      scenario,
      '--contenders',
      contenders.join(','),
    ],
  }));
}

interface SuiteRun {
  readonly dir: string;
  readonly reports: readonly BenchReport[];
  /** The control-plane run, when a gate needs one. */
  readonly control: ControlPlaneReport | null;
}

async function runSuite(gates: GatesFile): Promise<SuiteRun> {
  const dir = join(GATE_OUT_DIR, fileTimestamp(new Date()));
  const started = performance.now();
  const reports: BenchReport[] = [];
  for (const { scenario, args } of suiteRuns(gates)) {
    log(`${scenario}: sluice-bench ${args.join(' ')}`);
    const run = await runBench(args, dir);
    log(`${scenario}: ${Math.round(run.seconds)} s (sluice-bench exit ${run.exitCode})`);
    reports.push(run.report);
  }
  let control: ControlPlaneReport | null = null;
  if (gates.gates.some((g) => g.scenario === CONTROL_PLANE_SCENARIO)) {
    const args = gates.suite.control_plane_args ?? [];
    log(`${CONTROL_PLANE_SCENARIO}: bench:control ${args.join(' ')}`);
    const run = await runControlBench(args, dir);
    log(`${CONTROL_PLANE_SCENARIO}: ${Math.round(run.seconds)} s (bench:control exit ${run.exitCode})`);
    control = run.report;
  }
  log(
    `suite took ${Math.round((performance.now() - started) / 1000)} s; reports in ${relative(process.cwd(), dir)}/`,
  );
  return { dir, reports, control };
}

/** A run already written: a directory of reports (one per scenario), or one JSON report. */
function readRun(path: string): SuiteRun {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true) {
    const files = readdirSync(path)
      .filter((f) => f.endsWith('.json') && f !== 'verdict.json')
      .sort();
    if (files.length === 0)
      throw BENCH_ERRORS.error('gate_suite_failed', { reason: `${path} holds no JSON report` });
    const control = files.map((f) => join(path, f)).filter(isControlPlaneReport);
    const reports = files.map((f) => join(path, f)).filter((f) => !control.includes(f));
    return {
      dir: path,
      reports: reports.map(readReport),
      control: control[0] === undefined ? null : readControlPlaneReport(control[0]),
    };
  }
  const dir = path.replace(/\/[^/]*$/, '') || '.';
  if (isControlPlaneReport(path)) return { dir, reports: [], control: readControlPlaneReport(path) };
  return { dir, reports: [readReport(path)], control: null };
}

async function main(): Promise<number> {
  const program = new Command('bench-gate')
    .description('Runs the quick bench suite the gates need and fails when a ratio is below its floor')
    .option('--gates <file>', 'the gates file', GATES_FILE)
    .option('--report <paths>', 'judge runs already written (comma-separated directories or JSON reports)')
    .option(
      '--calibrate',
      'print each ratio over the runs: median, spread, and the floor the margin rule gives',
    )
    .option('--runs <n>', 'with --calibrate: run the suite this many times', '3')
    .option('--no-retry', 'fail on the first run (by default failed gates are run once more)')
    .showHelpAfterError()
    .parse();
  const flags = program.opts<{
    gates: string;
    report?: string;
    calibrate?: boolean;
    runs: string;
    retry: boolean;
  }>();
  const gates = loadGates(flags.gates);
  const paths = flags.report?.split(',').filter((f) => f !== '') ?? [];

  if (flags.calibrate === true) {
    const count = Number(flags.runs);
    if (!Number.isSafeInteger(count) || count < 1 || count > 50) {
      throw BENCH_ERRORS.error('bad_flag', {
        flag: '--runs',
        reason: `expected 1 to 50, got "${flags.runs}"`,
      });
    }
    const runs: SuiteRun[] = paths.map(readRun);
    for (let i = runs.length === 0 ? 0 : count; i < count; i++) {
      log(`calibration run ${i + 1}/${count}`);
      runs.push(await runSuite(gates));
    }
    const rows = calibrate(
      gates.gates,
      runs.map((r) => runLookup(r.reports, r.control)),
    );
    process.stdout.write(formatCalibration(rows, runs.length));
    return 0;
  }

  if (paths.length > 1) {
    throw BENCH_ERRORS.error('bad_flag', {
      flag: '--report',
      reason: 'judge one run at a time (or use --calibrate)',
    });
  }
  const run = paths[0] === undefined ? await runSuite(gates) : readRun(paths[0]);
  let verdict = evaluateGates(gates.gates, runLookup(run.reports, run.control));
  if (!verdict.ok && paths[0] === undefined && flags.retry !== false) {
    const failed = new Set(verdict.results.filter((r) => r.status === 'fail').map((r) => r.id));
    const again = { ...gates, gates: gates.gates.filter((g) => failed.has(g.id)) };
    process.stdout.write(`\n${formatVerdict(verdict)}`);
    log(
      `retrying the ${failed.size} failed gate(s) once: a gate fails only when both runs are below its floor`,
    );
    const retry = await runSuite(again);
    verdict = mergeRetry(verdict, evaluateGates(again.gates, runLookup(retry.reports, retry.control)));
  }
  process.stdout.write(`\n${formatVerdict(verdict)}`);
  if (paths[0] === undefined) {
    writeFileSync(join(run.dir, 'verdict.json'), `${JSON.stringify(verdict, null, 2)}\n`);
  }
  return verdict.ok ? 0 : 1;
}

await runMain(main);
