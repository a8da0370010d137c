// What each scenario measures in a full run and in a quick one (--quick): durations, repeats,
// and each scenario's own part (offered loads, message sizes, connection counts), which the
// scenario declares in its own file. Pure data, so the quick matrix is tested (and its cost
// estimated) without running anything.

import type { Contender } from '../contender.ts';
import { planParts, type ScenarioId, type ScenarioPlan, scenarioById } from './registry.ts';

export type { ScenarioPlan } from './registry.ts';

export const FULL_PLAN: ScenarioPlan = { seconds: 10, repeats: 3, warmupSeconds: 1, ...planParts('full') };

export const QUICK_PLAN: ScenarioPlan = { seconds: 2, repeats: 1, warmupSeconds: 0.5, ...planParts('quick') };

/** Measured runs a scenario makes per contender that it applies to (points times repeats). */
export function runsPerContender(plan: ScenarioPlan, scenario: ScenarioId): number {
  return scenarioById(scenario).runsPerRepeat(plan) * plan.repeats;
}

/** Seconds of measured traffic one run of `scenario` takes (without start-up and teardown). */
export function secondsPerRun(plan: ScenarioPlan, scenario: ScenarioId): number {
  return scenarioById(scenario).secondsPerRun(plan);
}

/** Start-up and teardown per run, seconds: fresh target and contender (sluice's edge is slowest). */
export const RUN_OVERHEAD_SECONDS = 0.6;

/**
 * A rough estimate of a suite's wall-clock seconds: every scenario, every contender it applies
 * to, every run, measured time plus start-up. Used to keep --quick inside its budget.
 */
export function estimateSeconds(
  plan: ScenarioPlan,
  scenarios: readonly ScenarioId[],
  contenders: readonly Contender[],
): number {
  let total = 0;
  for (const id of scenarios) {
    const scenario = scenarioById(id);
    // A covered scenario's figure comes from its covering one's run; nothing runs twice.
    if (scenario.coveredBy !== null && scenarios.includes(scenario.coveredBy)) continue;
    const count = contenders.filter((c) => scenario.appliesTo(c)).length;
    total += count * runsPerContender(plan, id) * (secondsPerRun(plan, id) + RUN_OVERHEAD_SECONDS);
  }
  return total;
}
