// What a scenario is, in one place: its name, its part of the plan, how it runs, the Markdown
// section and the charts its report yields, and whether a run of it failed. Each scenario's own
// file makes one with defineScenario; registry.ts lists them, and main.ts, plan.ts, the report,
// the tables and the charts loop over that list instead of naming each scenario.

import type { Chart } from '../charts/chart-specs.ts';
import type { Contender } from '../contender.ts';
import type { ScenarioContext } from './scenario.ts';

/** What every scenario's plan holds, beside its own part. */
export interface BasePlan {
  /** Seconds of measured traffic per run (iperf3 -t; load generators' measured window). */
  readonly seconds: number;
  /** Runs per contender and point; the tables give the median and min-max. */
  readonly repeats: number;
  /** Load generators run this long before the measured window (connections warm, JIT done). */
  readonly warmupSeconds: number;
}

/** A scenario's part of the plan, full and `--quick`. */
export interface PlanParts<P extends object> {
  readonly full: P;
  readonly quick: P;
}

export interface ScenarioDefinition<Id extends string, Key extends string, P extends object, R, C = never> {
  /** The `--only` name, and the key of `scenarioSeconds` and of progress lines. */
  readonly id: Id;
  /** The JSON report's field holding its report (null when it did not run). */
  readonly reportKey: Key;
  /** Its own part of the plan, full and `--quick`; the report's `options.plan` holds every part. */
  readonly plan: PlanParts<P>;
  /** Whether its runs drive iperf3 (the bench stops with tool_missing when iperf3 is not here). */
  readonly usesIperf3: boolean;
  /** Whether it measures this contender; the others are listed as not applicable or not measured. */
  readonly appliesTo: (contender: Contender) => boolean;
  /** Measured runs per repeat for each contender it applies to (its points). */
  readonly pointsPerRepeat: (plan: P & BasePlan) => number;
  /** Seconds of traffic one run measures, without start-up and teardown. */
  readonly secondsPerRun: (plan: P & BasePlan) => number;
  /** Runs it against `ctx.contenders`; `wants` says whether another scenario runs too. */
  readonly run: (ctx: ScenarioContext, plan: P & BasePlan, wants: (id: string) => boolean) => Promise<R>;
  /**
   * When the scenario `scenario` runs too, this one is not run on its own: its report is derived
   * from that one's (the single flow is the sweep's unlimited point).
   */
  readonly coveredBy?: { readonly scenario: string; readonly derive: (covering: C) => R | null };
  /** Its Markdown: heading and table lines (none when there is nothing to show), notes pushed. */
  readonly markdown: (report: R, notes: string[]) => string[];
  /** Its charts; `where` is the line naming the machine. A later scenario's chart of the same id replaces it. */
  readonly charts: (report: R, where: string) => Chart[];
  /** Whether a measured run failed (not-applicable and skipped contenders are not failures). */
  readonly failed: (report: R) => boolean;
}

/** Declares a scenario; the literal types of `id` and `reportKey` are kept for the report's type. */
export function defineScenario<
  const Id extends string,
  const Key extends string,
  P extends object,
  R,
  C = never,
>(definition: ScenarioDefinition<Id, Key, P, R, C>): ScenarioDefinition<Id, Key, P, R, C> {
  return definition;
}
