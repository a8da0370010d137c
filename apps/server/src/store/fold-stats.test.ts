import type { RuleStats } from '@sluice/protocol';
import { ZERO_COUNTERS } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { foldRuleStats, foldStatsReports, type RuleStatsState } from './fold-stats.ts';

function report(fields: Partial<RuleStats> = {}): RuleStats {
  return {
    ruleId: 'r_1',
    ...ZERO_COUNTERS,
    ...fields,
  };
}

/** A state as stored after some earlier report: distinct totals and baselines per counter. */
function stored(bootId: string, at: number): RuleStatsState {
  return {
    stats: {
      ruleId: 'r_1',
      at,
      bytesIn: 10_000,
      bytesOut: 20_000,
      connectionsTotal: 300,
      activeConnections: 7,
      rejected: 40,
      rejectedByReason: { sni_miss: 30, no_target: 10 },
      connectErrors: 50,
      bytesInPerSec: 123,
      bytesOutPerSec: 456,
    },
    bootId,
    last: { bytesIn: 1000, bytesOut: 2000, connectionsTotal: 30, rejected: 4, connectErrors: 5 },
    lastRejectedByReason: { sni_miss: 3, no_target: 1 },
  };
}

/** Folds a report of boot `bootId` at `now` into the state boot-a stored at 1000. */
function foldAfterStored(bootId: string, fields: Partial<RuleStats>, now: number): RuleStatsState {
  return foldRuleStats(stored('boot-a', 1000), bootId, report(fields), now).state;
}

describe('foldRuleStats', () => {
  it('takes a first report as all delta, at rate 0 (no interval yet), and keeps it as the baseline', () => {
    const next = foldRuleStats(
      null,
      'boot-a',
      report({
        bytesIn: 100,
        bytesOut: 200,
        connectionsTotal: 3,
        activeConnections: 2,
        rejected: 4,
        rejectedByReason: { sni_miss: 4 },
        connectErrors: 5,
      }),
      7000,
    ).state;
    expect(next).toEqual({
      stats: {
        ruleId: 'r_1',
        at: 7000,
        bytesIn: 100,
        bytesOut: 200,
        connectionsTotal: 3,
        activeConnections: 2,
        rejected: 4,
        rejectedByReason: { sni_miss: 4 },
        connectErrors: 5,
        bytesInPerSec: 0,
        bytesOutPerSec: 0,
      },
      bootId: 'boot-a',
      last: { bytesIn: 100, bytesOut: 200, connectionsTotal: 3, rejected: 4, connectErrors: 5 },
      lastRejectedByReason: { sni_miss: 4 },
    });
  });

  it('adds the difference to the last report of the same boot to every total', () => {
    const next = foldAfterStored(
      'boot-a',
      {
        bytesIn: 1500,
        bytesOut: 2600,
        connectionsTotal: 37,
        activeConnections: 1,
        rejected: 6,
        connectErrors: 9,
      },
      3000,
    );
    expect(next.stats).toMatchObject({
      at: 3000,
      bytesIn: 10_500,
      bytesOut: 20_600,
      connectionsTotal: 307,
      // Active connections are a level, not a counter: the report's value as it is.
      activeConnections: 1,
      rejected: 42,
      connectErrors: 54,
    });
    expect(next.last).toEqual({
      bytesIn: 1500,
      bytesOut: 2600,
      connectionsTotal: 37,
      rejected: 6,
      connectErrors: 9,
    });
    expect(next.bootId).toBe('boot-a');
  });

  it('divides the byte deltas by the seconds since the last report for the rates', () => {
    const next = foldAfterStored('boot-a', { bytesIn: 1500, bytesOut: 2600 }, 5000);
    // 500 bytes in and 600 out over 4 s.
    expect(next.stats.bytesInPerSec).toBe(125);
    expect(next.stats.bytesOutPerSec).toBe(150);
    // No time passed: no rate rather than a division by zero.
    const same = foldAfterStored('boot-a', { bytesIn: 1500, bytesOut: 2600 }, 1000);
    expect(same.stats.bytesInPerSec).toBe(0);
    expect(same.stats.bytesOutPerSec).toBe(0);
  });

  it('re-baselines on a new bootId: the edge restarted, its counters count from zero again', () => {
    const next = foldAfterStored(
      'boot-b',
      { bytesIn: 200, bytesOut: 300, connectionsTotal: 2, rejected: 1, connectErrors: 1 },
      3000,
    );
    expect(next.stats).toMatchObject({
      bytesIn: 10_200,
      bytesOut: 20_300,
      connectionsTotal: 302,
      rejected: 41,
      connectErrors: 51,
      // The whole report is the delta of the interval.
      bytesInPerSec: 100,
      bytesOutPerSec: 150,
    });
    expect(next).toMatchObject({ bootId: 'boot-b', last: { bytesIn: 200, bytesOut: 300 } });
  });

  it('counts a counter that went back within one boot (a reset) from zero, per counter', () => {
    // bytesIn went back (reset to 300); bytesOut moved on from its baseline of 2000.
    const next = foldAfterStored(
      'boot-a',
      { bytesIn: 300, bytesOut: 2100, connectionsTotal: 30, rejected: 2, connectErrors: 5 },
      2000,
    );
    expect(next.stats).toMatchObject({
      bytesIn: 10_300,
      bytesOut: 20_100,
      connectionsTotal: 300,
      rejected: 42,
      connectErrors: 50,
      bytesInPerSec: 300,
      bytesOutPerSec: 100,
    });
    expect(next.last.bytesIn).toBe(300);
  });
});

describe('rejects by reason', () => {
  it('fold by reason as the counters do: growth within a boot, all of it in a new one, a reason not seen before', () => {
    // Stored: sni_miss 30 (last report 3), no_target 10 (last report 1).
    const same = foldAfterStored(
      'boot-a',
      { rejectedByReason: { sni_miss: 5, no_target: 1, rule_max_connections: 2 } },
      2000,
    );
    expect(same.stats.rejectedByReason).toEqual({ sni_miss: 32, no_target: 10, rule_max_connections: 2 });
    expect(same.lastRejectedByReason).toEqual({ sni_miss: 5, no_target: 1, rule_max_connections: 2 });
    const newBoot = foldAfterStored('boot-b', { rejectedByReason: { no_target: 4 } }, 2000);
    expect(newBoot.stats.rejectedByReason).toEqual({ sni_miss: 30, no_target: 14 });
    // A count below its baseline was reset (the rule rebound): all of it is new.
    const reset = foldAfterStored('boot-a', { rejectedByReason: { sni_miss: 2 } }, 2000);
    expect(reset.stats.rejectedByReason).toEqual({ sni_miss: 32, no_target: 10 });
    // An edge that sends no reasons changes none.
    expect(foldAfterStored('boot-a', {}, 2000).stats.rejectedByReason).toEqual({
      sni_miss: 30,
      no_target: 10,
    });
  });
});

describe('foldStatsReports', () => {
  it('drops reports of rules it does not know, and folds the known ones in report order', () => {
    const known = new Map<string, RuleStatsState | null>([
      ['r_1', stored('boot-a', 1000)],
      ['r_2', null],
    ]);
    const folded = foldStatsReports({
      bootId: 'boot-a',
      now: 2000,
      known,
      reports: [
        report({ ruleId: 'r_2', bytesIn: 5 }),
        report({ ruleId: 'r_unknown', bytesIn: 1e9 }),
        report({ ruleId: 'r_1', bytesIn: 1100 }),
      ],
    });
    expect(folded.map(({ state }) => [state.stats.ruleId, state.stats.bytesIn])).toEqual([
      ['r_2', 5],
      ['r_1', 10_100],
    ]);
    // The input is not changed: the caller's map still holds what was stored.
    expect(known.get('r_2')).toBeNull();
  });

  it('folds a rule reported twice the second time against the first', () => {
    const folded = foldStatsReports({
      bootId: 'boot-a',
      now: 2000,
      known: new Map([['r_1', null]]),
      // The second went back from the first: a reset within the boot, so all of it is new.
      reports: [report({ bytesIn: 500 }), report({ bytesIn: 300 })],
    });
    expect(folded.map(({ state }) => state.stats.bytesIn)).toEqual([500, 800]);
  });

  it("answers each report's delta beside its state, across a boot change", () => {
    const folded = foldStatsReports({
      bootId: 'boot-b',
      now: 2000,
      known: new Map([['r_1', stored('boot-a', 1000)]]),
      // A new boot: all of the first is delta; the second is taken against the first.
      reports: [report({ bytesIn: 70, bytesOut: 80 }), report({ bytesIn: 100, bytesOut: 80 })],
    });
    expect(folded.map(({ delta }) => [delta.bytesIn, delta.bytesOut])).toEqual([
      [70, 80],
      [30, 0],
    ]);
    expect(folded.at(-1)?.state.stats).toMatchObject({ bytesIn: 10_100, bytesOut: 20_080 });
  });

  it("takes a rule's rate from the session's last report when the rule was left out since its own", () => {
    const fold = (since: number | null) =>
      foldStatsReports({
        bootId: 'boot-a',
        now: 11_000,
        since,
        known: new Map([['r_1', stored('boot-a', 1000)]]),
        // 5,000 bytes in and 1,000 out since the stored baseline.
        reports: [report({ bytesIn: 6000, bytesOut: 3000 })],
      })[0]!.state.stats;
    // Left out of the reports since 1000: it had not moved, so its bytes came after 9000.
    expect(fold(9000)).toMatchObject({ at: 11_000, bytesInPerSec: 2500, bytesOutPerSec: 500 });
    // Its own last report is the later one: the rate is taken from there.
    expect(fold(500)).toMatchObject({ bytesInPerSec: 500, bytesOutPerSec: 100 });
    // The session's first report: from the rule's own last report.
    expect(fold(null)).toMatchObject({ bytesInPerSec: 500, bytesOutPerSec: 100 });
  });

  it('answers nothing when no rule is known', () => {
    expect(foldStatsReports({ bootId: 'b', now: 1, known: new Map(), reports: [report()] })).toEqual([]);
  });
});
