import { describe, expect, it } from 'vitest';
import { CONTENDERS } from '../contenders/index.ts';
import { estimateSeconds, FULL_PLAN, QUICK_PLAN, runsPerContender } from './plan.ts';
import { SCENARIO_IDS, scenarioById } from './registry.ts';

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

  it('caps bandwidth at 10M, 100M and 1G, each on one flow and on eight, past a 2 s burst', () => {
    expect(FULL_PLAN.qosCaps).toEqual([10e6, 100e6, 1 * G]);
    expect(FULL_PLAN.qosStreams).toBe(8);
    expect(FULL_PLAN.qosOmitSeconds).toBe(2);
    expect(runsPerContender(FULL_PLAN, 'qos-cap')).toBe(3 * 2 * 3);
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
    // The 1G cap is the one the CPU figure reads; the omitted second still covers the burst.
    expect(QUICK_PLAN.qosCaps).toEqual([1 * G]);
    expect(QUICK_PLAN.qosOmitSeconds).toBeGreaterThanOrEqual(1);
  });

  it('keeps a quick qos-cap run, every sluice contender, under a minute', () => {
    const seconds = estimateSeconds(QUICK_PLAN, ['qos-cap'], CONTENDERS);
    expect(seconds).toBeLessThan(60);
  });

  it('fits the whole quick suite, every contender, in about eight minutes on two cores', () => {
    const applies = (id: 'sweep' | 'udp' | 'idle-memory' | 'qos-cap'): number =>
      CONTENDERS.filter((c) => scenarioById(id).appliesTo(c)).length;
    expect([
      CONTENDERS.length,
      applies('sweep'),
      applies('udp'),
      applies('idle-memory'),
      applies('qos-cap'),
    ]).toEqual([11, 11, 8, 8, 4]);
    const quick = estimateSeconds(QUICK_PLAN, SCENARIO_IDS, CONTENDERS);
    // 360 s before qos-cap, which adds about 30 s (the sluice contenders alone, one cap); the
    // four sluice contenders in udp about 40 s more, and edge-memory (idle processes, no load)
    // about 25 s.
    expect(quick).toBeLessThan(480);
    expect(estimateSeconds(FULL_PLAN, SCENARIO_IDS, CONTENDERS)).toBeGreaterThan(10 * quick);
    // The single flow is the sweep's unlimited point: with the sweep it adds nothing.
    expect(estimateSeconds(QUICK_PLAN, ['throughput', 'sweep'], CONTENDERS)).toBe(
      estimateSeconds(QUICK_PLAN, ['sweep'], CONTENDERS),
    );
  });
});
