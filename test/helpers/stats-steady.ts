// A rule's totals that must not move once its traffic is over: a report folded twice would show
// as more. The edge names a rule in its stats reports while the rule's counts move and once more
// after they stop, then not until they move again, so "the next report" may never come; the
// totals are watched instead for two and a half stats intervals, which holds that last report.

import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';

/** Reads `read` every 100 ms for 2.5 intervals of `intervalMs`; each reading must equal `expected`. */
export async function expectStatsSteady<T>(
  read: () => Promise<T>,
  expected: T,
  what: string,
  intervalMs = 1_000,
): Promise<void> {
  for (const until = Date.now() + 2.5 * intervalMs; Date.now() < until; await sleep(100)) {
    expect(await read(), `${what}, in the reports after`).toEqual(expected);
  }
}
