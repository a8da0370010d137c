// The shape most scenarios share: a list of points (an offered load, a message size and
// connection count), R repeats, and every contender measured once per point and repeat, each
// time in fresh processes. Rounds are interleaved (repeat, then point, then contender) so slow
// drift of the host spreads over all contenders. Each run yields named metrics; rows give each
// metric's median and min-max over the repeats, and ratios to `direct` and to `redirect` at the
// same point in this same bench run.

import type { Contender } from '../contender.ts';
import { errorData, type RunError } from '../errors.ts';
import { ratio, type Summary, summarize } from '../stats.ts';
import type { ScenarioContext } from './scenario.ts';

/** One measured run: its metrics, or the error that ended it. */
export interface MatrixRun<K extends string, D = unknown> {
  readonly repeat: number;
  readonly metrics: Readonly<Record<K, number>> | null;
  /** What the run measured beyond the metrics (iperf3's parsed report, counts), for the JSON. */
  readonly detail: D | null;
  readonly error: RunError | null;
}

export interface MatrixRow<P, K extends string, D = unknown> {
  readonly contender: string;
  readonly label: string;
  readonly point: P;
  /** The point as the tables name it (`1G`, `64 B × 100`). */
  readonly pointLabel: string;
  readonly runs: readonly MatrixRun<K, D>[];
  /** Per metric, over the successful runs; null when none succeeded. */
  readonly summary: Readonly<Record<K, Summary | null>>;
  /** Per metric: this median over `direct`'s / `redirect`'s median at the same point. */
  readonly vsDirect: Readonly<Record<K, number | null>>;
  readonly vsRedirect: Readonly<Record<K, number | null>>;
}

/** A contender the scenario does not apply to, and why (not a failure). */
export interface NotApplicable {
  readonly contender: string;
  readonly label: string;
  readonly reason: string;
}

export interface MatrixResult<P, K extends string, D = unknown> {
  readonly points: readonly P[];
  /** Point by point, contenders in table order within each point. */
  readonly rows: readonly MatrixRow<P, K, D>[];
  readonly notApplicable: readonly NotApplicable[];
}

export interface Measured<K extends string, D> {
  readonly metrics: Readonly<Record<K, number>>;
  readonly detail: D;
}

export interface MatrixSpec<P, K extends string, D> {
  readonly scenario: string;
  readonly metrics: readonly K[];
  readonly points: readonly P[];
  readonly pointLabel: (point: P) => string;
  readonly repeats: number;
  /** Seconds each run measures, for progress displays. */
  readonly secondsPerRun: number;
  /** null when the scenario applies to the contender; otherwise why not. */
  readonly notApplicable?: (contender: Contender) => string | null;
  /** One run in fresh processes; throws (a BenchError, an Iperf3Error) when it fails. */
  readonly run: (contender: Contender, point: P, repeat: number) => Promise<Measured<K, D>>;
  /** The log line after a run: `2.41 Gbit/s`. */
  readonly describe: (metrics: Readonly<Record<K, number>>) => string;
}

type Key = string;

/** Rows from the runs: summaries per metric and ratios to the baselines at the same point. */
export function matrixRows<P, K extends string, D>(
  contenders: readonly Pick<Contender, 'id' | 'label'>[],
  metrics: readonly K[],
  points: readonly P[],
  pointLabel: (point: P) => string,
  runs: ReadonlyMap<Key, readonly MatrixRun<K, D>[]>,
  key: (contender: string, point: P) => Key = (c, p) => `${c}\u0000${pointLabel(p)}`,
): MatrixRow<P, K, D>[] {
  const rows: MatrixRow<P, K, D>[] = [];
  for (const point of points) {
    const summaries = new Map<string, Record<K, Summary | null>>();
    for (const c of contenders) {
      const list = runs.get(key(c.id, point));
      if (list === undefined) continue;
      const summary = {} as Record<K, Summary | null>;
      for (const metric of metrics) {
        summary[metric] = summarize(list.flatMap((r) => (r.metrics === null ? [] : [r.metrics[metric]])));
      }
      summaries.set(c.id, summary);
    }
    const direct = summaries.get('direct');
    const redirect = summaries.get('redirect');
    for (const c of contenders) {
      const summary = summaries.get(c.id);
      if (summary === undefined) continue;
      const vsDirect = {} as Record<K, number | null>;
      const vsRedirect = {} as Record<K, number | null>;
      for (const metric of metrics) {
        vsDirect[metric] = ratio(summary[metric]?.median, direct?.[metric]?.median);
        vsRedirect[metric] = ratio(summary[metric]?.median, redirect?.[metric]?.median);
      }
      rows.push({
        contender: c.id,
        label: c.label,
        point,
        pointLabel: pointLabel(point),
        runs: runs.get(key(c.id, point)) ?? [],
        summary,
        vsDirect,
        vsRedirect,
      });
    }
  }
  return rows;
}

/** Runs the matrix: every applicable contender, every point, every repeat, interleaved. */
export async function runMatrix<P, K extends string, D>(
  ctx: ScenarioContext,
  spec: MatrixSpec<P, K, D>,
): Promise<MatrixResult<P, K, D>> {
  const notApplicable: NotApplicable[] = [];
  const applicable: Contender[] = [];
  for (const c of ctx.contenders) {
    const reason = spec.notApplicable?.(c) ?? null;
    if (reason === null) applicable.push(c);
    else notApplicable.push({ contender: c.id, label: c.label, reason });
  }
  const key = (contender: string, point: P): Key => `${contender}\u0000${spec.pointLabel(point)}`;
  const runs = new Map<Key, MatrixRun<K, D>[]>();
  for (const c of applicable) for (const p of spec.points) runs.set(key(c.id, p), []);
  // A contender that could not start is not started again in later rounds.
  const broken = new Map<string, RunError>();
  const total = spec.repeats * spec.points.length * applicable.length;
  let index = 0;
  for (let repeat = 1; repeat <= spec.repeats; repeat++) {
    for (const point of spec.points) {
      for (const contender of applicable) {
        index++;
        const list = runs.get(key(contender.id, point))!;
        const label = `${contender.id} · ${spec.pointLabel(point)}${spec.repeats > 1 ? ` · run ${repeat}/${spec.repeats}` : ''}`;
        ctx.onStep?.({ scenario: spec.scenario, index, total, label, seconds: spec.secondsPerRun });
        const prefix = `${spec.scenario} ${label}`;
        const earlier = broken.get(contender.id);
        if (earlier !== undefined) {
          list.push({ repeat, metrics: null, detail: null, error: earlier });
          continue;
        }
        try {
          const measured = await spec.run(contender, point, repeat);
          list.push({ repeat, metrics: measured.metrics, detail: measured.detail, error: null });
          ctx.log(`${prefix}: ${spec.describe(measured.metrics)}`);
        } catch (err) {
          const error = errorData(err);
          if (error.code === 'contender_start_failed') broken.set(contender.id, error);
          list.push({ repeat, metrics: null, detail: null, error });
          ctx.log(`${prefix}: FAILED ${error.code}: ${error.message}`);
        }
      }
    }
  }
  return {
    points: spec.points,
    rows: matrixRows(applicable, spec.metrics, spec.points, spec.pointLabel, runs, key),
    notApplicable,
  };
}

/** Whether any measured run of a matrix scenario failed. */
export function matrixFailed(result: Pick<MatrixResult<unknown, string>, 'rows'>): boolean {
  return result.rows.some((row) => row.runs.some((run) => run.error !== null));
}
