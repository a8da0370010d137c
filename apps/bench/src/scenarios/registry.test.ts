import { describe, expect, it } from 'vitest';
import { QUICK_PLAN } from './plan.ts';
import { noScenarioReports, runScenarios, runsFailed, SCENARIO_IDS, type ScenarioId } from './registry.ts';
import type { ScenarioContext } from './scenario.ts';

// No contenders: every scenario runs its plan over nobody, so nothing is spawned.
const ctx: ScenarioContext = { contenders: [], log: () => {} };

async function run(wanted: readonly ScenarioId[]) {
  const timed: ScenarioId[] = [];
  const reports = await runScenarios(ctx, QUICK_PLAN, wanted, (id, body) => {
    timed.push(id);
    return body();
  });
  return { timed, reports };
}

describe('runScenarios', () => {
  it('runs the wanted scenarios in registry order, whatever order they were asked in', async () => {
    const { timed, reports } = await run(['qos-cap', 'udp', 'parallel']);
    expect(timed).toEqual(['parallel', 'udp', 'qos-cap']);
    expect(reports.udp?.points).toEqual(QUICK_PLAN.udpBitrates);
    expect(reports.qosCap?.caps).toEqual(QUICK_PLAN.qosCaps);
    expect(reports.sweep).toBeNull();
    expect(reports.throughput).toBeNull();
  });

  it('takes the single flow from the sweep when both run, adding the unlimited point if missing', async () => {
    const plan = { ...QUICK_PLAN, sweepBitrates: [1e9] };
    const timed: ScenarioId[] = [];
    const reports = await runScenarios(ctx, plan, ['throughput', 'sweep'], (id, body) => {
      timed.push(id);
      return body();
    });
    expect(timed).toEqual(['sweep']);
    expect(reports.sweep?.points).toEqual([1e9, 0]);
    expect(reports.throughput).toEqual({ seconds: 2, repeats: 1, rows: [] });
  });

  it('runs the single flow on its own when the sweep is not asked', async () => {
    const { timed, reports } = await run(['throughput']);
    expect(timed).toEqual(['throughput']);
    expect(reports.throughput?.rows).toEqual([]);
    expect(reports.sweep).toBeNull();
  });

  it('gives every scenario a field of the report, null when it did not run', () => {
    expect(Object.keys(noScenarioReports())).toHaveLength(SCENARIO_IDS.length);
    expect(Object.values(noScenarioReports()).every((r) => r === null)).toBe(true);
  });
});

describe('runsFailed', () => {
  it('is true when a run of any scenario failed, and false for empty or absent reports', async () => {
    const { reports } = await run(['udp']);
    expect(runsFailed(reports)).toBe(false);
    expect(runsFailed(noScenarioReports())).toBe(false);
    const udp = reports.udp!;
    const failedRow = {
      contender: 'direct',
      label: 'direct',
      point: 1e8,
      pointLabel: '100M',
      runs: [{ repeat: 1, metrics: null, detail: null, error: { code: 'internal' as const, message: 'x' } }],
      summary: { bitsPerSecond: null, lostPercent: null, jitterMs: null },
      vsDirect: { bitsPerSecond: null, lostPercent: null, jitterMs: null },
      vsRedirect: { bitsPerSecond: null, lostPercent: null, jitterMs: null },
    };
    expect(runsFailed({ ...reports, udp: { ...udp, rows: [failedRow] } })).toBe(true);
  });
});
