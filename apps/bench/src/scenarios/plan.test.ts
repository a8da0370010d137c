import { describe, expect, it } from 'vitest';
import { CONTENDERS } from '../contenders/index.ts';
import { estimateSeconds, FULL_PLAN, QUICK_PLAN, runsPerContender } from './plan.ts';
import { SCENARIO_IDS } from './scenario.ts';

const G = 1e9;

describe('the full plan', () => {
  it('sweeps the offered loads issue 4 names, unlimited last', () => {
    expect(FULL_PLAN.sweepBitrates).toEqual([0.1 * G, 1 * G, 2.5 * G, 5 * G, 10 * G, 15 * G, 20 * G, 0]);
    expect(FULL_PLAN.parallelStreams).toBe(8);
    expect(FULL_PLAN.messageSizes).toEqual([64, 1024, 16_384, 65_536]);
    expect(FULL_PLAN.messageConnections).toEqual([10, 100, 500]);
    expect(FULL_PLAN.idleConnections).toEqual([1000, 4000, 10_000]);
    expect(runsPerContender(FULL_PLAN, 'small-messages')).toBe(4 * 3 * 3);
  });
});

describe('the quick plan', () => {
  it('keeps every scenario but shortens runs to 2 s, one repeat, and fewer points', () => {
    expect([QUICK_PLAN.seconds, QUICK_PLAN.repeats]).toEqual([2, 1]);
    for (const scenario of SCENARIO_IDS) {
      expect(runsPerContender(QUICK_PLAN, scenario)).toBeGreaterThanOrEqual(1);
      expect(runsPerContender(QUICK_PLAN, scenario)).toBeLessThanOrEqual(
        runsPerContender(FULL_PLAN, scenario),
      );
    }
    // Each quick point is one of the full plan's, and unlimited stays (the gates read it).
    expect(QUICK_PLAN.sweepBitrates.every((b) => FULL_PLAN.sweepBitrates.includes(b))).toBe(true);
    expect(QUICK_PLAN.sweepBitrates).toContain(0);
    expect(QUICK_PLAN.messageSizes.every((s) => FULL_PLAN.messageSizes.includes(s))).toBe(true);
    expect(QUICK_PLAN.idleConnections).toContain(4000);
  });

  it('fits the whole quick suite, every contender, in about six minutes on two cores', () => {
    const counts = {
      all: CONTENDERS.length,
      udp: CONTENDERS.filter((c) => c.udpNotApplicable === undefined).length,
      idle: CONTENDERS.filter((c) => c.relay === 'user-space' && c.idleMemoryNote === undefined).length,
    };
    expect(counts).toEqual({ all: 11, udp: 4, idle: 8 });
    const quick = estimateSeconds(QUICK_PLAN, SCENARIO_IDS, counts);
    expect(quick).toBeLessThan(360);
    expect(estimateSeconds(FULL_PLAN, SCENARIO_IDS, counts)).toBeGreaterThan(10 * quick);
  });
});
