// `pnpm bench:replicas`: sluice-server as replicas on one PostgreSQL database (issue 14),
// measured in one run next to a single server on SQLite: (1) push → Active latency through the
// replica holding the edge and through the other one, (2) a real edge's failover after a SIGKILL
// of its replica, (3) the replay of E edges × R rules after that failover, (4) server CPU and RSS
// with many edges on one replica and split over two, (5) database connections per replica.
// Markdown to stdout, progress to stderr, JSON + Markdown to benchmarks/out/replicas/.
//
//   pnpm bench:replicas            500 pushes, 5 failovers, 10 × 1000 replay, 1000 edges, 30 s CPU window
//   pnpm bench:replicas --quick    50 pushes, 1 failover, 2 × 50 replay, 50 edges, 2 s window (a smoke run)

import { join } from 'node:path';
import { Command } from 'commander';
import { installCleanupHandlers } from './cleanup.ts';
import { countFlag } from './count-flag.ts';
import { FULL_REPLICAS_PLAN, QUICK_REPLICAS_PLAN, type ReplicasPlan } from './replicas/plan.ts';
import { renderReplicasMarkdown, writeReplicasReport } from './replicas/report.ts';
import { runReplicas } from './replicas/run.ts';
import { RESULTS_DIR } from './repo-paths.ts';
import { runMain } from './run-main.ts';

const program = new Command('bench-replicas')
  .description('Measures sluice-server replicas on PostgreSQL against one server on SQLite')
  .option('--quick', 'small counts: 50 pushes, 1 failover, 2 edges × 50 rules, 50 edges, 2 s CPU window')
  .option(
    '--pushes <n>',
    '(1) pushes through each replica and to the SQLite baseline (default 500, quick 50)',
  )
  .option('--failovers <n>', '(2) SIGKILLs of replica A (default 5, quick 1)')
  .option('--replay-edges <n>', '(3) simulated edges replayed after the failover (default 10, quick 2)')
  .option('--replay-rules <n>', '(3) rules on each of them (default 1000, quick 50)')
  .option('--edges <n>', '(4) simulated edges for CPU, RSS and connections (default 1000, quick 50)')
  .option('--settle <seconds>', '(4) the CPU window (default 30, quick 2)')
  .option('--out <dir>', 'directory for the JSON and Markdown reports', join(RESULTS_DIR, 'replicas'))
  .showHelpAfterError();

const log = (line: string): void => void process.stderr.write(`bench replicas: ${line}\n`);

async function main(): Promise<number> {
  program.parse();
  const flags = program.opts<{
    quick?: boolean;
    pushes?: string;
    failovers?: string;
    replayEdges?: string;
    replayRules?: string;
    edges?: string;
    settle?: string;
    out: string;
  }>();
  const base = flags.quick === true ? QUICK_REPLICAS_PLAN : FULL_REPLICAS_PLAN;
  const plan: ReplicasPlan = {
    ...base,
    pushes: countFlag('--pushes', flags.pushes, base.pushes, 1, 10_000),
    failovers: countFlag('--failovers', flags.failovers, base.failovers, 1, 100),
    replayEdges: countFlag('--replay-edges', flags.replayEdges, base.replayEdges, 1, 1000),
    replayRules: countFlag('--replay-rules', flags.replayRules, base.replayRules, 1, 10_000),
    loadEdges: countFlag('--edges', flags.edges, base.loadEdges, 2, 5000),
    settleSeconds: countFlag('--settle', flags.settle, base.settleSeconds, 1, 3600),
  };
  installCleanupHandlers(log);
  const report = await runReplicas(plan, log);
  process.stdout.write(renderReplicasMarkdown(report));
  const files = writeReplicasReport(report, flags.out);
  log(`reports: ${files.json} and ${files.markdown}`);
  return report.errors.length > 0 ? 1 : 0;
}

await runMain(main);
