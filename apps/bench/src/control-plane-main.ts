// `pnpm bench:control`: the control plane's figures, measured (issue 7): (a) push-to-Active
// latency over N pushes to one real managed sluice-edge, (b) the time to replay those N rules to
// it after a SIGKILL and restart, (c) sluice-server's RSS/PSS with 50 simulated edges and 2000
// rules. Markdown to stdout, progress to stderr, JSON + Markdown to benchmarks/out/control-plane/.
//
//   pnpm bench:control                 200 pushes at 1, 1000 and 10000 rules held, 50 edges, 2000 rules, 120 s settle
//   pnpm bench:control --quick         50 pushes at 1 and 100 rules held, 10 edges, 100 rules, 6 s settle (a smoke run)
//   pnpm bench:control --levels 1,2000 --pushes 100 --edges 20 --rules 800 --settle 30 --out DIR

import { join } from 'node:path';
import { Command } from 'commander';
import { installCleanupHandlers } from './cleanup.ts';
import { type ControlPlanePlan, FULL_CONTROL_PLAN, QUICK_CONTROL_PLAN } from './control-plane/plan.ts';
import { renderControlPlaneMarkdown, writeControlPlaneReport } from './control-plane/report.ts';
import { runControlPlane } from './control-plane/run.ts';
import { countFlag } from './count-flag.ts';
import { BENCH_ERRORS } from './errors.ts';
import { RESULTS_DIR } from './repo-paths.ts';
import { runMain } from './run-main.ts';

const program = new Command('bench-control')
  .description(
    'Measures sluice-server: push-to-Active latency, replay to a reconnecting edge, memory with many edges',
  )
  .option(
    '--quick',
    'small counts: 50 pushes at 1 and 100 rules held, 10 simulated edges, 100 rules, 6 s settle',
  )
  .option(
    '--levels <list>',
    'rules the real edge holds (filled untimed) before each run of timed pushes, ascending (default 1,1000,10000; quick 1,100)',
  )
  .option(
    '--pushes <n>',
    'timed pushes, one at a time, at each level (default 200, quick 50); every rule is then replayed',
  )
  .option(
    '--warmup <n>',
    'untimed pushes (each rule removed again) before the first level, so that cold code is not timed (default 50, quick 20)',
  )
  .option('--edges <n>', 'simulated edges for the memory figure (default 50, quick 10)')
  .option('--rules <n>', 'rules over the simulated edges (default 2000, quick 100)')
  .option(
    '--settle <seconds>',
    'seconds the server runs with every edge and rule before its memory is read (default 120, quick 6)',
  )
  .option('--out <dir>', 'directory for the JSON and Markdown reports', join(RESULTS_DIR, 'control-plane'))
  .showHelpAfterError();

/** `--levels`: ascending rule counts, 1 to 20,000 (the bench's rules need a loopback port each). */
function levelList(value: string | undefined, fallback: readonly number[]): readonly number[] {
  if (value === undefined) return fallback;
  const levels = value.split(',').map((part) => Number(part.trim()));
  const ascending = levels.every((n, i) => i === 0 || n > levels[i - 1]!);
  if (!levels.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 20_000) || !ascending) {
    throw BENCH_ERRORS.error('bad_flag', {
      flag: '--levels',
      reason: `expected ascending rule counts from 0 to 20000 separated by commas, got "${value}"`,
    });
  }
  return levels;
}

const log = (line: string): void => void process.stderr.write(`bench control: ${line}\n`);

async function main(): Promise<number> {
  program.parse();
  const flags = program.opts<{
    quick?: boolean;
    levels?: string;
    pushes?: string;
    warmup?: string;
    edges?: string;
    rules?: string;
    settle?: string;
    out: string;
  }>();
  const base = flags.quick === true ? QUICK_CONTROL_PLAN : FULL_CONTROL_PLAN;
  const plan: ControlPlanePlan = {
    ...base,
    levels: levelList(flags.levels, base.levels),
    pushes: countFlag('--pushes', flags.pushes, base.pushes, 1, 10_000),
    warmup: countFlag('--warmup', flags.warmup, base.warmup, 0, 10_000),
    edges: countFlag('--edges', flags.edges, base.edges, 1, 1000),
    rules: countFlag('--rules', flags.rules, base.rules, 1, 100_000),
    settleSeconds: countFlag('--settle', flags.settle, base.settleSeconds, 0, 3600),
  };
  installCleanupHandlers(log);
  const report = await runControlPlane(plan, log);
  process.stdout.write(renderControlPlaneMarkdown(report));
  const files = writeControlPlaneReport(report, flags.out);
  log(`reports: ${files.json} and ${files.markdown}`);
  return report.errors.length > 0 ? 1 : 0;
}

await runMain(main);
