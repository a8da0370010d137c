// `./run soak`: the long run an operator trusts a relay by. One standalone edge holds CONCURRENT
// connections at once, then churns CHURN connections one transfer each (every transfer checked
// by length, a sample by sha256), then carries UDP flows; its descriptors, pipes, RSS,
// connections and flows are sampled each second and must come back to their baseline.
// Progress to stderr; the report (Markdown, JSON, CSV, SVG curve) to --out. Exit 1 on any
// failed transfer or when the edge does not return to its baseline.
//
//   ./run soak                                   9,000 held, 1,000,000 churned, 2,000 flows
//   ./run soak --concurrent 300 --churn 3000 --flows 50 --hold-secs 1   (the CI's short run)

import { join } from 'node:path';
import { Command } from 'commander';
import { installCleanupHandlers } from './cleanup.ts';
import { countFlag } from './count-flag.ts';
import { BENCH_ERRORS } from './errors.ts';
import { RESULTS_DIR } from './repo-paths.ts';
import { runMain } from './run-main.ts';
import { soakProblems, writeSoakReport } from './soak/report.ts';
import { runSoak } from './soak/run.ts';
import { FULL_SOAK, type SoakPlan } from './soak/soak-plan.ts';

const program = new Command('soak')
  .description(
    'Soaks one standalone edge: held connections, a million churned, UDP flows; checks every transfer and the return to baseline',
  )
  .option('--concurrent <n>', `connections held open at once (default ${FULL_SOAK.concurrent})`)
  .option('--churn <n>', `connections churned, one verified transfer each (default ${FULL_SOAK.churn})`)
  .option('--lanes <n>', `churned transfers in flight at once (default ${FULL_SOAK.lanes})`)
  .option(
    '--sample-every <n>',
    `every Nth churned transfer is large and compared by sha256 (default ${FULL_SOAK.sampleEvery})`,
  )
  .option('--hold-secs <n>', `seconds the held connections stay open (default ${FULL_SOAK.holdSeconds})`)
  .option('--flows <n>', `UDP flows (default ${FULL_SOAK.flows})`)
  .option('--shards <n>', `the edge's shards (default ${FULL_SOAK.shards})`)
  .option('--relay <path>', 'splice (the default) or js (SLUICE_NO_SPLICE=1)', 'splice')
  .option('--out <dir>', 'directory for the report', join(RESULTS_DIR, 'soak'))
  .showHelpAfterError();

const log = (line: string): void => void process.stderr.write(`soak: ${line}\n`);

async function main(): Promise<number> {
  program.parse();
  const flags = program.opts<{
    concurrent?: string;
    churn?: string;
    lanes?: string;
    sampleEvery?: string;
    holdSecs?: string;
    flows?: string;
    shards?: string;
    relay: string;
    out: string;
  }>();
  if (flags.relay !== 'splice' && flags.relay !== 'js') {
    throw BENCH_ERRORS.error('bad_flag', {
      flag: '--relay',
      reason: `expected splice or js, got "${flags.relay}"`,
    });
  }
  const plan: SoakPlan = {
    ...FULL_SOAK,
    concurrent: countFlag('--concurrent', flags.concurrent, FULL_SOAK.concurrent, 1, 100_000),
    churn: countFlag('--churn', flags.churn, FULL_SOAK.churn, 0, 100_000_000),
    lanes: countFlag('--lanes', flags.lanes, FULL_SOAK.lanes, 1, 1000),
    sampleEvery: countFlag('--sample-every', flags.sampleEvery, FULL_SOAK.sampleEvery, 1, 1_000_000),
    holdSeconds: countFlag('--hold-secs', flags.holdSecs, FULL_SOAK.holdSeconds, 0, 86_400),
    flows: countFlag('--flows', flags.flows, FULL_SOAK.flows, 0, 10_000),
    shards: countFlag('--shards', flags.shards, FULL_SOAK.shards, 1, 64),
    relay: flags.relay,
  };
  installCleanupHandlers(log);
  const result = await runSoak(plan, log);
  const problems = soakProblems(result);
  const files = await writeSoakReport(result, problems, flags.out);
  for (const problem of problems) log(`FAILED ${problem}`);
  log(`${problems.length === 0 ? 'passed' : 'failed'}; report: ${files.markdown}`);
  return problems.length === 0 ? 0 : 1;
}

await runMain(main);
