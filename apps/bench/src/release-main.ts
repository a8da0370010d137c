// `./run bench:release`: an idle edge (2 shards, no rules) started from the release tarball
// (`./run release`) and from `./run edge`, in turns, a few times each: how long from spawn to its
// `edge ready` line, and its RSS once idle. Markdown to stdout, JSON to benchmarks/out/release/.
//
//   ./run bench:release                  3 starts of each, 2 s idle before RSS is read
//   ./run bench:release --runs 10 --idle 5

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { installCleanupHandlers } from './cleanup.ts';
import { countFlag } from './count-flag.ts';
import { BENCH_ERRORS } from './errors.ts';
import { ManagedProcess } from './managed-process.ts';
import { freePorts } from './ports.ts';
import { REPO_ROOT, RESULTS_DIR } from './repo-paths.ts';
import { rssKiB } from './rss.ts';
import { runMain } from './run-main.ts';
import { median } from './stats.ts';
import { makeTempDir } from './temp-dir.ts';

const program = new Command('bench-release')
  .description("An idle edge's start-to-ready time and RSS, from the release tarball and from ./run edge")
  .option('--runs <n>', 'starts of each, taken in turns (default 3)')
  .option('--idle <seconds>', 'seconds an edge idles after ready before its RSS is read (default 2)')
  .option('--out <dir>', 'directory for the JSON report', join(RESULTS_DIR, 'release'))
  .showHelpAfterError();

const READY_TIMEOUT_MS = 60_000;

interface Start {
  readonly readyMs: number;
  readonly rssMiB: number;
}

type Way = 'release' | './run edge';

const log = (line: string): void => void process.stderr.write(`bench release: ${line}\n`);

/** The tarball `./run release` made for this machine's CPU, unpacked into a temp dir. */
function unpackRelease(): string {
  const version = (
    JSON.parse(readFileSync(join(REPO_ROOT, 'apps', 'edge', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const name = `sluice-${version}-linux-${process.arch}`;
  const tarball = join(REPO_ROOT, 'dist', `${name}.tar.gz`);
  if (!existsSync(tarball)) {
    throw BENCH_ERRORS.error('tool_missing', { tool: tarball, install: 'build it with ./run release' });
  }
  const dir = makeTempDir('release').path;
  execFileSync('tar', ['xzf', tarball, '-C', dir]);
  return join(dir, name);
}

/** Spawns the edge one way, waits for `edge ready`, idles, reads the RSS of the edge's own process. */
async function startOnce(way: Way, release: string, config: string, idleMs: number): Promise<Start> {
  const started = performance.now();
  const proc = new ManagedProcess({
    name: way,
    ...(way === 'release'
      ? { command: join(release, 'bin', 'sluice-edge'), args: ['--config', config] }
      : { command: join(REPO_ROOT, 'run'), args: ['edge', '--config', config] }),
    cwd: REPO_ROOT,
    env: { ...process.env, SLUICE_LOG_FORMAT: 'json' },
  });
  let pid: number | null = null;
  try {
    const line = await proc.waitForLine(
      (l) => l.includes('"msg":"edge ready"'),
      READY_TIMEOUT_MS,
      'edge ready',
    );
    const readyMs = performance.now() - started;
    // The edge's own pid from its log line: `./run edge` is a shell, then pnpm, then node.
    pid = (JSON.parse(line) as { pid: number }).pid;
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const kib = rssKiB(pid);
    if (kib === null)
      throw BENCH_ERRORS.error('memory_unreadable', { subject: way, reason: `pid ${pid} is gone` });
    return { readyMs, rssMiB: kib / 1024 };
  } finally {
    // The edge itself is stopped: pnpm does not pass a signal on to the script it runs.
    if (pid !== null && proc.running) process.kill(pid, 'SIGTERM');
    await proc.waitForExit(15_000).catch(() => proc.stop('SIGKILL', 5_000));
  }
}

async function main(): Promise<number> {
  installCleanupHandlers(log);
  program.parse();
  const options = program.opts<{ runs?: string; idle?: string; out: string }>();
  const runs = countFlag('--runs', options.runs, 3, 1, 100);
  const idleMs = countFlag('--idle', options.idle, 2, 0, 600) * 1000;
  const release = unpackRelease();
  const dir = makeTempDir('release-config').path;
  const [metrics] = await freePorts(1);
  const config = join(dir, 'edge.toml');
  writeFileSync(config, `name = "bench"\nshards = 2\nmetrics = "127.0.0.1:${metrics}"\nrules = []\n`);

  const starts: Record<Way, Start[]> = { release: [], './run edge': [] };
  for (let run = 1; run <= runs; run++) {
    for (const way of ['release', './run edge'] as const) {
      const start = await startOnce(way, release, config, idleMs);
      starts[way].push(start);
      log(`${way} ${run}/${runs}: ready in ${start.readyMs.toFixed(0)} ms, ${start.rssMiB.toFixed(1)} MiB`);
    }
  }
  const summary = (['release', './run edge'] as const).map((way) => ({
    way,
    readyMs: median(starts[way].map((s) => s.readyMs)),
    rssMiB: median(starts[way].map((s) => s.rssMiB)),
  }));
  const [fromRelease, fromRun] = summary as [(typeof summary)[number], (typeof summary)[number]];
  const lines = [
    `Idle edge, 2 shards, no rules; medians of ${runs} starts each, RSS after ${idleMs / 1000} s idle.`,
    '',
    '| started from | spawn → ready | RSS |',
    '| --- | --: | --: |',
    ...summary.map((s) => `| ${s.way} | ${s.readyMs.toFixed(0)} ms | ${s.rssMiB.toFixed(1)} MiB |`),
    `| release ÷ ./run edge | ${(fromRelease.readyMs / fromRun.readyMs).toFixed(2)} | ${(fromRelease.rssMiB / fromRun.rssMiB).toFixed(2)} |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(options.out, { recursive: true });
  writeFileSync(
    join(options.out, 'release.json'),
    `${JSON.stringify({ runs, idleMs, summary, starts }, null, 2)}\n`,
  );
  return 0;
}

await runMain(main);
