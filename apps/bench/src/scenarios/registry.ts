// Every scenario, in the order a full run takes them and the report shows them. Adding one is
// its own file (a defineScenario) and a line here; the CLI, the plan, the JSON report's fields,
// the Markdown and the charts follow from this list.

import type { Chart } from '../charts/chart-specs.ts';
import type { Contender } from '../contender.ts';
import { connectRateScenario } from './connect-rate.ts';
import { edgeMemoryScenario } from './edge-memory.ts';
import { httpScenario } from './http.ts';
import { idleMemoryScenario } from './idle-memory.ts';
import { parallelScenario } from './parallel.ts';
import { qosCapScenario } from './qos-cap.ts';
import type { ScenarioContext } from './scenario.ts';
import type { BasePlan, ScenarioDefinition } from './scenario-definition.ts';
import { smallMessagesScenario } from './small-messages.ts';
import { sweepScenario } from './sweep.ts';
import { throughputScenario } from './throughput.ts';
import { udpScenario } from './udp.ts';

/**
 * `throughput` is the unlimited single flow on its own; when `sweep` runs too, its unlimited
 * point is that figure and nothing runs twice.
 */
const SCENARIOS = [
  throughputScenario,
  sweepScenario,
  parallelScenario,
  udpScenario,
  smallMessagesScenario,
  httpScenario,
  connectRateScenario,
  idleMemoryScenario,
  edgeMemoryScenario,
  qosCapScenario,
] as const;

type Registered = (typeof SCENARIOS)[number];

export type ScenarioId = Registered['id'];

export const SCENARIO_IDS: readonly ScenarioId[] = SCENARIOS.map((s) => s.id);

type UnionToIntersection<U> = (U extends unknown ? (part: U) => void : never) extends (part: infer I) => void
  ? I
  : never;

/** Everything each scenario measures: the common fields and every scenario's own part. */
export type ScenarioPlan = BasePlan & UnionToIntersection<Registered['plan']['full']>;

/** One field per scenario, named by its `reportKey`: its report, or null when it did not run. */
export type ScenarioReports = {
  readonly [S in Registered as S['reportKey']]: Awaited<ReturnType<S['run']>> | null;
};

type ReportKey = keyof ScenarioReports;

/** A scenario as the runner, the plan and the report see it: each reads its own field of the reports. */
export interface RegisteredScenario {
  readonly id: ScenarioId;
  readonly reportKey: ReportKey;
  readonly usesIperf3: boolean;
  /** The scenario whose run yields this one's report when both run, or null. */
  readonly coveredBy: ScenarioId | null;
  appliesTo(contender: Contender): boolean;
  runsPerRepeat(plan: ScenarioPlan): number;
  secondsPerRun(plan: ScenarioPlan): number;
  run(ctx: ScenarioContext, plan: ScenarioPlan, wants: (id: string) => boolean): Promise<unknown>;
  /** Its report taken from the covering scenario's, or null when that did not run. */
  derive(reports: Partial<ScenarioReports>): unknown;
  markdown(reports: Partial<ScenarioReports>, notes: string[]): string[];
  charts(reports: Partial<ScenarioReports>, where: string): Chart[];
  failed(reports: Partial<ScenarioReports>): boolean;
}

function isScenarioId(value: string): value is ScenarioId {
  return (SCENARIO_IDS as readonly string[]).includes(value);
}

/**
 * The one place where a report field is read back as its scenario's report type: main.ts
 * stores each scenario's report under its own `reportKey`, so the field holds that type.
 */
function registered<P extends object, R, C>(
  definition: ScenarioDefinition<ScenarioId, ReportKey, P, R, C>,
): RegisteredScenario {
  const field = (reports: Partial<ScenarioReports>, key: string): unknown =>
    (reports as Readonly<Record<string, unknown>>)[key] ?? null;
  const own = (reports: Partial<ScenarioReports>): R | null =>
    field(reports, definition.reportKey) as R | null;
  const covering = definition.coveredBy;
  const coveringKey =
    covering === undefined ? null : (SCENARIOS.find((s) => s.id === covering.scenario)?.reportKey ?? null);
  const coveredBy = covering !== undefined && isScenarioId(covering.scenario) ? covering.scenario : null;
  // The plan holds every scenario's part, this one's among them.
  const part = (plan: ScenarioPlan): P & BasePlan => plan as unknown as P & BasePlan;
  return {
    id: definition.id,
    reportKey: definition.reportKey,
    usesIperf3: definition.usesIperf3,
    coveredBy,
    appliesTo: definition.appliesTo,
    runsPerRepeat: (plan) => definition.pointsPerRepeat(part(plan)),
    secondsPerRun: (plan) => definition.secondsPerRun(part(plan)),
    run: (ctx, plan, wants) => definition.run(ctx, part(plan), wants),
    derive: (reports) => {
      if (covering === undefined || coveringKey === null) return null;
      const source = field(reports, coveringKey);
      return source === null ? null : covering.derive(source as C);
    },
    markdown: (reports, notes) => {
      const report = own(reports);
      return report === null ? [] : definition.markdown(report, notes);
    },
    charts: (reports, where) => {
      const report = own(reports);
      return report === null ? [] : definition.charts(report, where);
    },
    failed: (reports) => {
      const report = own(reports);
      return report !== null && definition.failed(report);
    },
  };
}

export const SCENARIO_LIST: readonly RegisteredScenario[] = SCENARIOS.map((s) =>
  registered<object, unknown, unknown>(
    s as ScenarioDefinition<ScenarioId, ReportKey, object, unknown, unknown>,
  ),
);

export function scenarioById(id: ScenarioId): RegisteredScenario {
  const scenario = SCENARIO_LIST.find((s) => s.id === id);
  if (scenario === undefined) throw new Error(`no scenario ${id}`);
  return scenario;
}

/** Every scenario's part of the full plan, and of the quick one. */
export function planParts(which: 'full' | 'quick'): UnionToIntersection<Registered['plan']['full']> {
  return Object.assign({}, ...SCENARIOS.map((s) => s.plan[which]));
}

/** Every scenario's field, null: what a report that ran none of them holds (and older reports lack). */
export function noScenarioReports(): ScenarioReports {
  return Object.fromEntries(SCENARIOS.map((s) => [s.reportKey, null])) as ScenarioReports;
}

/**
 * Runs the wanted scenarios in the registry's order, each through `timed`. A covered scenario
 * whose covering one runs is not run: its report is derived from that one's afterwards.
 */
export async function runScenarios(
  ctx: ScenarioContext,
  plan: ScenarioPlan,
  wanted: readonly ScenarioId[],
  timed: <T>(id: ScenarioId, body: () => Promise<T>) => Promise<T>,
): Promise<ScenarioReports> {
  const reports = noScenarioReports();
  // Each scenario writes its own field, so the field holds its report type (see registered()).
  const fields = reports as Record<string, unknown>;
  const wants = (id: string): boolean => (wanted as readonly string[]).includes(id);
  const covered = (s: RegisteredScenario): boolean => s.coveredBy !== null && wants(s.coveredBy);
  for (const scenario of SCENARIO_LIST) {
    if (wants(scenario.id) && !covered(scenario)) {
      fields[scenario.reportKey] = await timed(scenario.id, () => scenario.run(ctx, plan, wants));
    }
  }
  for (const scenario of SCENARIO_LIST) {
    if (covered(scenario)) fields[scenario.reportKey] = scenario.derive(reports);
  }
  return reports;
}

/** Whether any measured run failed (not-applicable and skipped contenders are not failures). */
export function runsFailed(reports: Partial<ScenarioReports>): boolean {
  return SCENARIO_LIST.some((scenario) => scenario.failed(reports));
}
