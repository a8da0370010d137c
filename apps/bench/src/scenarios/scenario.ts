// What every scenario gets, and what every scenario shares: a contender started fresh for one
// run and stopped afterwards whatever happens. What a scenario is: scenario-definition.ts; the
// list of them: registry.ts.

import type { Contender, RunningContender, StartOptions } from '../contender.ts';

/** One measured step of a scenario, announced before it starts (for progress displays). */
export interface ScenarioStep {
  /** The scenario's id (`sweep`). */
  readonly scenario: string;
  /** 1-based; `total` counts every step the scenario plans, skipped ones included. */
  readonly index: number;
  readonly total: number;
  /** `sluice-js-1 · 1G · run 2/3` */
  readonly label: string;
  /** Roughly how long the step measures, seconds (start-up and teardown not included). */
  readonly seconds: number;
}

export interface ScenarioContext {
  /** The contenders chosen and available here, in table order. */
  readonly contenders: readonly Contender[];
  /** Progress for the person watching (stderr); the results go elsewhere. */
  readonly log: (line: string) => void;
  /** Called before each step; a progress bar hangs off this. */
  readonly onStep?: (step: ScenarioStep) => void;
}

/** Starts `contender` fresh, runs `body` against it, and stops it even when `body` throws. */
export async function withContender<T>(
  contender: Contender,
  listenPort: number,
  targetPort: number,
  body: (running: RunningContender) => Promise<T>,
  options: StartOptions = {},
): Promise<T> {
  const running = await contender.start(listenPort, targetPort, options);
  try {
    return await body(running);
  } finally {
    await running.stop();
  }
}
