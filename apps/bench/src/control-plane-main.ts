// `pnpm bench:control`: the control plane's figures, measured (issue 7): (a) push-to-Active
// latency over N pushes to one real managed sluice-edge, (b) the time to replay those N rules to
// it after a SIGKILL and restart, (c) sluice-server's RSS/PSS with 50 simulated edges and 2000
// rules. Markdown to stdout, progress to stderr, JSON + Markdown to benchmarks/out/control-plane/.
//
//   pnpm bench:control                 1000 pushes, 50 edges, 2000 rules, 120 s settle
//   pnpm bench:control --quick         100 pushes, 10 edges, 100 rules, 6 s settle (a smoke run)
//   pnpm bench:control --pushes 500 --edges 20 --rules 800 --settle 30 --out DIR

import { join } from 'node:path';
import { Command } from 'commander';
import { installCleanupHandlers } from './cleanup.ts';
import { type ControlPlanePlan, FULL_CONTROL_PLAN, QUICK_CONTROL_PLAN } from './control-plane/plan.ts';
import { renderControlPlaneMarkdown, writeControlPlaneReport } from './control-plane/report.ts';
import { runControlPlane } from './control-plane/run.ts';
import { BENCH_ERRORS } from './errors.ts';
import { RESULTS_DIR } from './repo-paths.ts';
import { runMain } from './run-main.ts';

const program = new Command('bench-control')
  .description(
    'Measures sluice-server: push-to-Active latency, replay to a reconnecting edge, memory with many edges',
  )
  .option('--quick', 'small counts: 100 pushes, 10 simulated edges, 100 rules, 6 s settle')
  .option('--pushes <n>', 'rules pushed one by one to the real edge, then replayed (default 1000, quick 100)')
  .option('--edges <n>', 'simulated edges for the memory figure (default 50, quick 10)')
  .option('--rules <n>', 'rules over the simulated edges (default 2000, quick 100)')
  .option(
    '--settle <seconds>',
    'seconds the server runs with every edge and rule before its memory is read (default 120, quick 6)',
  )
  .option('--out <dir>', 'directory for the JSON and Markdown reports', join(RESULTS_DIR, 'control-plane'))
  .showHelpAfterError();

function count(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw BENCH_ERRORS.error('bad_flag', { flag, reason: `expected ${min} to ${max}, got "${value}"` });
  }
  return n;
}

const log = (line: string): void => void process.stderr.write(`bench control: ${line}\n`);

async function main(): Promise<number> {
  program.parse();
  const flags = program.opts<{
    quick?: boolean;
    pushes?: string;
    edges?: string;
    rules?: string;
    settle?: string;
    out: string;
  }>();
  const base = flags.quick === true ? QUICK_CONTROL_PLAN : FULL_CONTROL_PLAN;
  const plan: ControlPlanePlan = {
    ...base,
    pushes: count('--pushes', flags.pushes, base.pushes, 1, 10_000),
    edges: count('--edges', flags.edges, base.edges, 1, 1000),
    rules: count('--rules', flags.rules, base.rules, 1, 100_000),
    settleSeconds: count('--settle', flags.settle, base.settleSeconds, 0, 3600),
  };
  installCleanupHandlers(log);
  const report = await runControlPlane(plan, log);
  process.stdout.write(renderControlPlaneMarkdown(report));
  const files = writeControlPlaneReport(report, flags.out);
  log(`reports: ${files.json} and ${files.markdown}`);
  return report.errors.length > 0 ? 1 : 0;
}

await runMain(main);
