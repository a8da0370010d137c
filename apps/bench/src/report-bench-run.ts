// Runs sluice-bench as a child process with the given flags (what `pnpm bench:gate` and
// `pnpm bench:results` do), and reads back the JSON report it wrote. Its Markdown goes to our
// stdout and its progress to our stderr, as if it had been run by hand. Ctrl+C reaches it from
// the terminal (same process group); a SIGTERM sent to us is passed on, so either way it
// removes what it set up.

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_PLANE_REPORT_VERSION, type ControlPlaneReport } from './control-plane/report.ts';
import { BENCH_ERRORS } from './errors.ts';
import { NODE_BIN } from './repo-paths.ts';
import { type BenchReport, REPORT_FORMAT_VERSION } from './report.ts';
import { noScenarioReports } from './scenarios/registry.ts';

const BENCH_MAIN = join(import.meta.dirname, 'main.ts');
const CONTROL_MAIN = join(import.meta.dirname, 'control-plane-main.ts');

export interface BenchRun {
  /** The JSON report's path. */
  readonly file: string;
  readonly report: BenchReport;
  /** sluice-bench's exit code: 1 when some runs failed (they are in the report). */
  readonly exitCode: number;
  readonly seconds: number;
}

/** Reads a report sluice-bench wrote; a file from another format version is an error. */
export function readReport(file: string): BenchReport {
  const raw = readJson(file);
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== REPORT_FORMAT_VERSION) {
    throw BENCH_ERRORS.error('gate_suite_failed', {
      reason: `${file}: report format ${String(version)}, this bench reads ${REPORT_FORMAT_VERSION}`,
    });
  }
  // A scenario added within this format version is absent from older reports: it did not run.
  return { ...noScenarioReports(), ...(raw as BenchReport) };
}

function jsonFiles(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'verdict.json'));
  } catch {
    return new Set();
  }
}

/** Runs `sluice-bench <args> --out <outDir>` and returns the report it wrote. */
export async function runBench(args: readonly string[], outDir: string): Promise<BenchRun> {
  const run = await runWritingReport(BENCH_MAIN, 'sluice-bench', args, outDir);
  return { ...run, report: readReport(run.file) };
}

/** Runs `pnpm bench:control <args> --out <outDir>` and returns the report it wrote. */
export async function runControlBench(
  args: readonly string[],
  outDir: string,
): Promise<Omit<BenchRun, 'report'> & { readonly report: ControlPlaneReport }> {
  const run = await runWritingReport(CONTROL_MAIN, 'bench:control', args, outDir);
  return { ...run, report: readControlPlaneReport(run.file) };
}

/** A report `pnpm bench:control` wrote; a file from another format version is an error. */
export function readControlPlaneReport(file: string): ControlPlaneReport {
  const raw = readJson(file) as Partial<ControlPlaneReport> | null;
  if (raw?.kind !== 'control-plane' || raw.formatVersion !== CONTROL_PLANE_REPORT_VERSION) {
    throw BENCH_ERRORS.error('gate_suite_failed', {
      reason: `${file}: not a control-plane report of format ${CONTROL_PLANE_REPORT_VERSION}`,
    });
  }
  return raw as ControlPlaneReport;
}

/** Whether the JSON report `file` is one `pnpm bench:control` wrote (else sluice-bench's). */
export function isControlPlaneReport(file: string): boolean {
  return (readJson(file) as { kind?: unknown } | null)?.kind === 'control-plane';
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw BENCH_ERRORS.error('gate_suite_failed', {
      reason: `${file}: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
}

async function runWritingReport(
  main: string,
  what: string,
  args: readonly string[],
  outDir: string,
): Promise<Omit<BenchRun, 'report'>> {
  mkdirSync(outDir, { recursive: true });
  const before = jsonFiles(outDir);
  const started = performance.now();
  const child = spawn(NODE_BIN, [main, ...args, '--out', outDir], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGTERM', forward);
  let exitCode: number;
  try {
    exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
    });
  } finally {
    process.off('SIGTERM', forward);
  }
  const seconds = (performance.now() - started) / 1000;
  const created = [...jsonFiles(outDir)].filter((f) => !before.has(f)).sort();
  const newest = created.at(-1);
  if (newest === undefined) {
    throw BENCH_ERRORS.error('gate_suite_failed', {
      reason: `${what} exited ${exitCode} without writing a report`,
    });
  }
  return { file: join(outDir, newest), exitCode, seconds };
}
