// `./run chaos`: for SECONDS, transfers over a managed edge's rules while a shard, the edge, the
// server and PostgreSQL are killed one at a time at random and come back. Fails (exit 1) on a
// transfer cut without an error, a corrupted one, a rule lost, a counter that went backwards, or
// a kill the system does not recover from. Progress to stderr; the report to --out.
//
//   ./run chaos                               10 minutes, the server on PostgreSQL
//   ./run chaos --seconds 45 --rules 2 --min-gap 1 --max-gap 2   (the CI's short run)

import { join } from 'node:path';
import { Command } from 'commander';
import { type ChaosPlan, DEFAULT_CHAOS } from './chaos/chaos-plan.ts';
import { writeChaosReport } from './chaos/report.ts';
import { runChaos } from './chaos/run.ts';
import { installCleanupHandlers } from './cleanup.ts';
import { countFlag } from './count-flag.ts';
import { BENCH_ERRORS } from './errors.ts';
import { RESULTS_DIR } from './repo-paths.ts';
import { runMain } from './run-main.ts';

const program = new Command('chaos')
  .description(
    'Kills shards, the edge, the server and PostgreSQL under load; checks transfers, rules and counters',
  )
  .option('--seconds <n>', `how long the load and the kills go on (default ${DEFAULT_CHAOS.seconds})`)
  .option('--store <kind>', 'postgres (a throwaway cluster, killed too) or sqlite', DEFAULT_CHAOS.store)
  .option('--rules <n>', `rules carrying the load (default ${DEFAULT_CHAOS.rules})`)
  .option('--lanes <n>', `transfers in flight at once (default ${DEFAULT_CHAOS.lanes})`)
  .option(
    '--min-gap <s>',
    `least seconds between a recovery and the next kill (default ${DEFAULT_CHAOS.minGapSeconds})`,
  )
  .option(
    '--max-gap <s>',
    `most seconds between a recovery and the next kill (default ${DEFAULT_CHAOS.maxGapSeconds})`,
  )
  .option('--seed <n>', `the kill order's and gaps' seed (default ${DEFAULT_CHAOS.seed})`)
  .option('--out <dir>', 'directory for the report', join(RESULTS_DIR, 'chaos'))
  .showHelpAfterError();

const log = (line: string): void => void process.stderr.write(`chaos: ${line}\n`);

/** Set-up, the last recovery and the final checks get this long beyond --seconds. */
const OVERTIME_SECONDS = 300;

async function main(): Promise<number> {
  program.parse();
  const flags = program.opts<{
    seconds?: string;
    store: string;
    rules?: string;
    lanes?: string;
    minGap?: string;
    maxGap?: string;
    seed?: string;
    out: string;
  }>();
  if (flags.store !== 'postgres' && flags.store !== 'sqlite') {
    throw BENCH_ERRORS.error('bad_flag', {
      flag: '--store',
      reason: `expected postgres or sqlite, got "${flags.store}"`,
    });
  }
  const minGap = countFlag('--min-gap', flags.minGap, DEFAULT_CHAOS.minGapSeconds, 0, 3600);
  const plan: ChaosPlan = {
    ...DEFAULT_CHAOS,
    seconds: countFlag('--seconds', flags.seconds, DEFAULT_CHAOS.seconds, 1, 7 * 86_400),
    store: flags.store,
    rules: countFlag('--rules', flags.rules, DEFAULT_CHAOS.rules, 1, 100),
    lanes: countFlag('--lanes', flags.lanes, DEFAULT_CHAOS.lanes, 1, 1000),
    minGapSeconds: minGap,
    maxGapSeconds: countFlag(
      '--max-gap',
      flags.maxGap,
      Math.max(minGap, DEFAULT_CHAOS.maxGapSeconds),
      minGap,
      3600,
    ),
    seed: countFlag('--seed', flags.seed, DEFAULT_CHAOS.seed, 0, 2 ** 32 - 1),
  };
  installCleanupHandlers(log);
  // Every wait in the run has its own deadline; this one bounds them all, so that a step that
  // never returns still ends the run (the progress lines above say which step it was).
  const budget = plan.seconds + OVERTIME_SECONDS + plan.recoverSeconds;
  setTimeout(() => {
    log(
      `gave up after ${budget} s: the run did not finish; the last line above is the last step it completed`,
    );
    process.exit(1);
  }, budget * 1000).unref();
  const result = await runChaos(plan, log);
  const files = writeChaosReport(result, flags.out);
  for (const violation of result.violations) log(`VIOLATION ${violation}`);
  log(`${result.violations.length === 0 ? 'passed' : 'failed'}; report: ${files.markdown}`);
  return result.violations.length === 0 ? 0 : 1;
}

await runMain(main);
