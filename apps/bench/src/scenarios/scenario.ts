// What every scenario gets, and what every scenario shares: a contender started fresh for one
// run and stopped afterwards whatever happens.

import type { Contender, RunningContender } from '../contender.ts';

export const SCENARIO_IDS = ['throughput', 'idle-memory'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface ScenarioContext {
  /** The contenders chosen and available here, in table order. */
  readonly contenders: readonly Contender[];
  /** Progress for the person watching (stderr); the results go elsewhere. */
  readonly log: (line: string) => void;
}

/** Starts `contender` fresh, runs `body` against it, and stops it even when `body` throws. */
export async function withContender<T>(
  contender: Contender,
  listenPort: number,
  targetPort: number,
  body: (running: RunningContender) => Promise<T>,
): Promise<T> {
  const running = await contender.start(listenPort, targetPort);
  try {
    return await body(running);
  } finally {
    await running.stop();
  }
}
