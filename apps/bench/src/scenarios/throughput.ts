// Single-flow TCP throughput: iperf3 server on 127.0.0.1:T, iperf3 client through each
// contender for D seconds; R rounds, each round visiting every contender once (interleaved, so
// slow drift of the host spreads over all of them), each visit with fresh processes.

import type { Contender } from '../contender.ts';
import { errorData, type RunError } from '../errors.ts';
import { runIperf3Client, startIperf3Server } from '../iperf3-process.ts';
import type { Iperf3TcpResult } from '../iperf3-result.ts';
import { freePorts } from '../ports.ts';
import { ratio, type Summary, summarize } from '../stats.ts';
import { type ScenarioContext, withContender } from './scenario.ts';

export interface ThroughputOptions {
  readonly seconds: number;
  readonly repeats: number;
}

export interface ThroughputRun {
  readonly repeat: number;
  /** Received bits per second (iperf3 end.sum_received), null when the run failed. */
  readonly bitsPerSecond: number | null;
  readonly iperf3: Iperf3TcpResult | null;
  readonly error: RunError | null;
}

export interface ThroughputRow {
  readonly contender: string;
  readonly label: string;
  readonly runs: readonly ThroughputRun[];
  /** Over the successful runs, in bits per second. */
  readonly summary: Summary | null;
  /** Median over the median of `direct` / of `redirect` in this same bench run. */
  readonly vsDirect: number | null;
  readonly vsRedirect: number | null;
}

export interface ThroughputReport {
  readonly seconds: number;
  readonly repeats: number;
  readonly rows: readonly ThroughputRow[];
}

/** Rows with medians, and ratios to the `direct` and `redirect` medians of the same runs. */
export function throughputRows(
  contenders: readonly Pick<Contender, 'id' | 'label'>[],
  runs: ReadonlyMap<string, readonly ThroughputRun[]>,
): ThroughputRow[] {
  const summaries = new Map<string, Summary | null>();
  for (const c of contenders) {
    const values = (runs.get(c.id) ?? []).flatMap((r) => (r.bitsPerSecond === null ? [] : [r.bitsPerSecond]));
    summaries.set(c.id, summarize(values));
  }
  const directMedian = summaries.get('direct')?.median;
  const redirectMedian = summaries.get('redirect')?.median;
  return contenders.map((c) => {
    const summary = summaries.get(c.id) ?? null;
    return {
      contender: c.id,
      label: c.label,
      runs: runs.get(c.id) ?? [],
      summary,
      vsDirect: ratio(summary?.median, directMedian),
      vsRedirect: ratio(summary?.median, redirectMedian),
    };
  });
}

async function oneRun(contender: Contender, repeat: number, seconds: number): Promise<ThroughputRun> {
  const [listenPort, targetPort] = (await freePorts(2)) as [number, number];
  const server = await startIperf3Server(targetPort);
  try {
    const result = await withContender(contender, listenPort, targetPort, (running) =>
      runIperf3Client({ port: running.connectPort, seconds }),
    );
    return { repeat, bitsPerSecond: result.receivedBitsPerSecond, iperf3: result, error: null };
  } finally {
    await server.stop('SIGTERM', 3000);
  }
}

export function formatGbits(bitsPerSecond: number): string {
  return (bitsPerSecond / 1e9).toFixed(2);
}

export async function runThroughput(
  ctx: ScenarioContext,
  options: ThroughputOptions,
): Promise<ThroughputReport> {
  const runs = new Map<string, ThroughputRun[]>(ctx.contenders.map((c) => [c.id, []]));
  // A contender that could not start is not started again in later rounds.
  const broken = new Set<string>();
  for (let repeat = 1; repeat <= options.repeats; repeat++) {
    for (const contender of ctx.contenders) {
      const list = runs.get(contender.id)!;
      if (broken.has(contender.id)) continue;
      const prefix = `throughput ${repeat}/${options.repeats} ${contender.id}`;
      ctx.log(`${prefix}: ${options.seconds} s single flow`);
      let run: ThroughputRun;
      try {
        run = await oneRun(contender, repeat, options.seconds);
        ctx.log(`${prefix}: ${formatGbits(run.bitsPerSecond ?? 0)} Gbit/s`);
      } catch (err) {
        const error = errorData(err);
        if (error.code === 'contender_start_failed') broken.add(contender.id);
        run = { repeat, bitsPerSecond: null, iperf3: null, error };
        ctx.log(`${prefix}: FAILED ${error.code}: ${error.message}`);
      }
      list.push(run);
    }
  }
  return { seconds: options.seconds, repeats: options.repeats, rows: throughputRows(ctx.contenders, runs) };
}
