import { describe, expect, it } from 'vitest';
import type { ControlPlaneReport } from './control-plane/report.ts';
import {
  evaluateGate,
  evaluateGates,
  formatVerdict,
  type GateLookup,
  type GateSpec,
  gateNeeds,
  mergeRetry,
  type Observation,
  parseGatesFile,
} from './gate.ts';
import { calibrate, marginFor } from './gate-calibrate.ts';
import { reportLookup, runLookup, unknownMetrics } from './gate-metrics.ts';
import { sampleReport as report } from './report.fixture.ts';

const SPLICE: GateSpec = {
  id: 'splice_vs_c_splice',
  description: 'sluice splice path against the C splice relay, single flow',
  scenario: 'throughput',
  metric: 'bits_per_second',
  numerator: 'sluice-splice-1',
  denominator: 'c-splice',
  floor: 0.8,
  measured_median: 0.95,
  margin: '15%',
};

const PUSH_FLAT: GateSpec = {
  id: 'push_p99_flat_1000_rules',
  description: 'push p99 at 1 rule held over push p99 at 1000 rules held',
  scenario: 'control-plane',
  metric: 'push_p99_ms',
  numerator: 'held-1',
  denominator: 'held-1000',
  floor: 0.5,
  measured_median: 0.9,
  margin: '40%',
};

/** A bench:control report with timed pushes at 1 and 1000 rules held (only what gates read). */
function controlReport(p99At1000: number): ControlPlaneReport {
  const level = (rulesHeld: number, p99Ms: number) => ({
    rulesHeld,
    latency: { p99Ms },
    serverLatency: null,
  });
  return {
    kind: 'control-plane',
    pushLatency: { byLevel: [level(1, 6), level(1000, p99At1000)] },
    errors: [],
  } as unknown as ControlPlaneReport;
}

const EDGE_RSS: GateSpec = {
  id: 'idle_edge_rss_bare_node_vs_sluice',
  description: 'idle edge RSS, bare Node over sluice at 2 shards',
  scenario: 'edge-memory',
  metric: 'rss_kib',
  numerator: 'bare-node-2-workers',
  denominator: 'sluice-2-shards',
  contenders: ['sluice-splice-1'],
  floor: 0.5,
  measured_median: 0.7,
  margin: '10%',
};

const MEMORY: GateSpec = {
  id: 'idle_memory_haproxy_vs_sluice',
  description: 'KiB per idle connection, HAProxy over sluice',
  scenario: 'idle-memory',
  metric: 'kib_per_connection',
  numerator: 'haproxy',
  denominator: 'sluice-splice-1',
  floor: 1,
  measured_median: 1.5,
  margin: '30%',
};

/** A lookup over fixed observations per contender. */
function lookupOf(observations: Record<string, Observation>): GateLookup {
  return (_gate, contender) =>
    observations[contender] ?? { kind: 'missing', reason: 'not in the test table' };
}

const v = (value: number): Observation => ({ kind: 'value', value });

describe('evaluateGate', () => {
  it('passes at or above the floor', () => {
    const r = evaluateGate(SPLICE, lookupOf({ 'sluice-splice-1': v(18e9), 'c-splice': v(20e9) }));
    expect(r.status).toBe('pass');
    expect(r.ratio).toBeCloseTo(0.9);
    expect(evaluateGate(SPLICE, lookupOf({ 'sluice-splice-1': v(16e9), 'c-splice': v(20e9) })).status).toBe(
      'pass',
    );
  });

  it('fails below the floor, saying the ratio, both figures and the floor', () => {
    const r = evaluateGate(SPLICE, lookupOf({ 'sluice-splice-1': v(7e9), 'c-splice': v(20e9) }));
    expect(r.status).toBe('fail');
    expect(r.ratio).toBeCloseTo(0.35);
    expect(r.message).toContain('below its floor: 0.35');
    expect(r.message).toContain('floor 0.8');
    expect(r.message).toContain('c-splice 20.00 Gbit/s');
  });

  it('fails with a clear message when a contender has no figure', () => {
    const r = evaluateGate(SPLICE, lookupOf({ 'c-splice': v(20e9) }));
    expect(r.status).toBe('fail');
    expect(r.ratio).toBeNull();
    expect(r.message).toBe('no throughput bits_per_second for sluice-splice-1: not in the test table');
  });

  it('fails when a needed contender was skipped on this host, naming the fix', () => {
    const lookup = lookupOf({
      haproxy: { kind: 'skipped', reason: 'haproxy is not installed (apt-get install haproxy)' },
      'sluice-splice-1': v(2),
    });
    const r = evaluateGate(MEMORY, lookup);
    expect(r.status).toBe('fail');
    expect(r.message).toContain(
      'haproxy was skipped on this host: haproxy is not installed (apt-get install haproxy)',
    );
    expect(r.message).toContain('"optional": true');
  });

  it('skips (without failing) an optional gate whose contender was skipped', () => {
    const lookup = lookupOf({
      haproxy: { kind: 'skipped', reason: 'haproxy is not installed' },
      'sluice-splice-1': v(2),
    });
    const r = evaluateGate({ ...MEMORY, optional: true }, lookup);
    expect(r.status).toBe('skipped');
    expect(evaluateGates([{ ...MEMORY, optional: true }], lookup).ok).toBe(true);
  });

  it('an optional gate still fails when a figure is missing for another reason', () => {
    const r = evaluateGate({ ...MEMORY, optional: true }, lookupOf({ haproxy: v(3) }));
    expect(r.status).toBe('fail');
  });

  it('fails on a zero baseline rather than dividing by it', () => {
    const r = evaluateGate(SPLICE, lookupOf({ 'sluice-splice-1': v(1), 'c-splice': v(0) }));
    expect(r.status).toBe('fail');
    expect(r.message).toContain('cannot divide');
  });
});

describe('evaluateGates and formatVerdict', () => {
  it('lists every failed gate and is not ok', () => {
    const verdict = evaluateGates([SPLICE, MEMORY], lookupOf({ 'sluice-splice-1': v(1), 'c-splice': v(10) }));
    expect(verdict.ok).toBe(false);
    const text = formatVerdict(verdict);
    expect(text).toContain('2 of 2 gates failed');
    expect(text).toContain('- splice_vs_c_splice');
    expect(text).toContain('- idle_memory_haproxy_vs_sluice');
  });

  it('says all gates are met when they are', () => {
    const verdict = evaluateGates([SPLICE], lookupOf({ 'sluice-splice-1': v(9), 'c-splice': v(10) }));
    expect(verdict.ok).toBe(true);
    expect(formatVerdict(verdict)).toContain('all 1 gates met');
  });

  it('gateNeeds: each scenario once, with only the contenders its gates compare', () => {
    expect(gateNeeds([SPLICE, MEMORY, { ...SPLICE, id: 'x', numerator: 'sluice-js-1' }])).toEqual([
      { scenario: 'throughput', contenders: ['sluice-splice-1', 'c-splice', 'sluice-js-1'] },
      { scenario: 'idle-memory', contenders: ['haproxy', 'sluice-splice-1'] },
    ]);
  });

  it("gateNeeds: a gate over its scenario's own subjects runs the contenders it names", () => {
    expect(gateNeeds([EDGE_RSS])).toEqual([{ scenario: 'edge-memory', contenders: ['sluice-splice-1'] }]);
  });
});

describe('mergeRetry', () => {
  const first = evaluateGates([SPLICE], lookupOf({ 'sluice-splice-1': v(5), 'c-splice': v(10) }));

  it('fails a gate only when the retry is below its floor too, naming both ratios', () => {
    const retry = evaluateGates([SPLICE], lookupOf({ 'sluice-splice-1': v(6), 'c-splice': v(10) }));
    const merged = mergeRetry(first, retry);
    const splice = merged.results.find((r) => r.id === SPLICE.id);
    expect(merged.ok).toBe(false);
    expect(splice?.status).toBe('fail');
    expect(splice?.ratio).toBeCloseTo(0.6);
    expect(splice?.message).toContain('failed twice: first run 0.50');
  });

  it('passes a gate that was noise in the first run, and says so', () => {
    const retry = evaluateGates([SPLICE], lookupOf({ 'sluice-splice-1': v(9), 'c-splice': v(10) }));
    const merged = mergeRetry(first, retry);
    expect(merged.ok).toBe(true);
    expect(merged.results[0]?.message).toContain('passed on retry (first run 0.50)');
  });

  it('keeps first-run results for gates that were not failing', () => {
    const passing = evaluateGates([SPLICE], lookupOf({ 'sluice-splice-1': v(9), 'c-splice': v(10) }));
    const retry = evaluateGates([SPLICE], lookupOf({ 'sluice-splice-1': v(1), 'c-splice': v(10) }));
    expect(mergeRetry(passing, retry)).toEqual(passing);
  });
});

describe('parseGatesFile', () => {
  const file = (gates: unknown[]): string => JSON.stringify({ suite: { args: ['--quick'] }, gates });

  it('accepts a valid file', () => {
    expect(parseGatesFile(file([SPLICE, MEMORY]), 'gates.json').gates).toHaveLength(2);
  });

  it('names the path of a bad field', () => {
    const bad = { ...SPLICE, floor: -1 };
    expect(() => parseGatesFile(file([SPLICE, bad]), 'gates.json')).toThrow(/gates\[1\]\.floor/);
  });

  it('rejects unknown keys, duplicate ids, a ratio of a contender to itself, and non-JSON', () => {
    expect(() => parseGatesFile(file([{ ...SPLICE, flor: 1 }]), 'g')).toThrow(
      expect.objectContaining({ code: 'gates_file_invalid' }),
    );
    expect(() => parseGatesFile(file([SPLICE, SPLICE]), 'g')).toThrow(/appears twice/);
    expect(() => parseGatesFile(file([{ ...SPLICE, denominator: 'sluice-splice-1' }]), 'g')).toThrow(/both/);
    expect(() => parseGatesFile('{', 'g')).toThrow(/not JSON/);
  });

  it('unknownMetrics names a scenario or metric no reader knows', () => {
    expect(unknownMetrics([SPLICE, MEMORY])).toEqual([]);
    expect(unknownMetrics([{ ...SPLICE, metric: 'packets' }])[0]).toMatch(/gates\[0\]\.metric/);
    expect(unknownMetrics([{ ...SPLICE, scenario: 'nope' }])[0]).toMatch(/gates\[0\]\.scenario/);
  });
});

describe('reportLookup', () => {
  const lookup = reportLookup(report({}));

  it('reads the median of a throughput row, or its best run', () => {
    expect(lookup(SPLICE, 'c-splice')).toEqual({ kind: 'value', value: 20e9 });
    const spread = reportLookup(
      report({
        throughput: {
          seconds: 3,
          repeats: 3,
          rows: [
            {
              contender: 'c-splice',
              label: 'C',
              runs: [],
              summary: { n: 3, median: 12e9, min: 11e9, max: 21e9 },
              vsDirect: null,
              vsRedirect: null,
            },
          ],
        },
      }),
    );
    expect(spread(SPLICE, 'c-splice')).toEqual({ kind: 'value', value: 12e9 });
    expect(spread({ ...SPLICE, statistic: 'max' }, 'c-splice')).toEqual({ kind: 'value', value: 21e9 });
  });

  it('says why a contender whose runs all failed has no figure', () => {
    expect(lookup(SPLICE, 'sluice-splice-1')).toEqual({
      kind: 'missing',
      reason: 'all 1 runs failed (contender_start_failed: sluice-splice-1 did not start: boom)',
    });
  });

  it('reports a contender skipped on this host as skipped', () => {
    expect(lookup(MEMORY, 'haproxy')).toEqual({ kind: 'skipped', reason: 'haproxy is not installed' });
  });

  it('reports a contender that was not part of the run as missing', () => {
    const o = lookup(SPLICE, 'nginx');
    expect(o.kind).toBe('missing');
    expect(o.kind === 'missing' && o.reason).toMatch(/not among this run's contenders/);
  });

  it('reports a scenario that did not run, and a contender the scenario did not measure', () => {
    const noMemory = reportLookup(report({ options: { ...report({}).options, scenarios: ['throughput'] } }));
    expect(noMemory(MEMORY, 'sluice-splice-1')).toEqual({
      kind: 'missing',
      reason: 'the idle-memory scenario was not run',
    });
    expect(lookup({ ...MEMORY, numerator: 'c-splice' }, 'c-splice')).toEqual({
      kind: 'missing',
      reason: 'not measured: a throughput ceiling only',
    });
  });

  it('control-plane gates read push p99 at a level of rules held from the bench:control report', () => {
    const flat = runLookup([], controlReport(8));
    expect(flat(PUSH_FLAT, 'held-1000')).toEqual({ kind: 'value', value: 8 });
    expect(evaluateGate(PUSH_FLAT, flat)).toMatchObject({ status: 'pass', ratio: 0.75 });
    // A push that costs more with more rules held falls below the floor.
    expect(evaluateGate(PUSH_FLAT, runLookup([], controlReport(30)))).toMatchObject({
      status: 'fail',
      ratio: 0.2,
    });
    expect(flat({ ...PUSH_FLAT, denominator: 'held-10000' }, 'held-10000')).toEqual({
      kind: 'missing',
      reason: 'no timed pushes at 10000 rules held (measured: 1, 1000)',
    });
    expect(runLookup([])(PUSH_FLAT, 'held-1')).toEqual({
      kind: 'missing',
      reason: 'bench:control did not run',
    });
    expect(unknownMetrics([PUSH_FLAT])).toEqual([]);
    expect(unknownMetrics([{ ...PUSH_FLAT, numerator: 'sluice' }])[0]).toMatch(
      /"sluice" is not a level of rules held/,
    );
    expect(unknownMetrics([{ ...PUSH_FLAT, metric: 'rss' }])[0]).toMatch(/not a control-plane metric/);
  });

  it('runLookup reads each gate from the report that ran its scenario', () => {
    const onlyThroughput = report({ options: { ...report({}).options, scenarios: ['throughput'] } });
    const run = runLookup([onlyThroughput]);
    expect(run(SPLICE, 'c-splice')).toEqual({ kind: 'value', value: 20e9 });
    expect(run(MEMORY, 'sluice-splice-1')).toEqual({
      kind: 'missing',
      reason: 'no report in this run measured idle-memory',
    });
  });

  it('reads memory at the headline count, or at the count the gate names', () => {
    expect(lookup(MEMORY, 'sluice-splice-1')).toEqual({ kind: 'value', value: 2 });
    expect(lookup({ ...MEMORY, case: '1000' }, 'sluice-splice-1')).toEqual({ kind: 'value', value: 2.5 });
    expect(lookup({ ...MEMORY, case: '10000' }, 'sluice-splice-1')).toEqual({
      kind: 'missing',
      reason: 'not measured at 10000 connections (measured: 1000, 4000)',
    });
  });
});

describe('reportLookup on edge-memory subjects', () => {
  const edge = (rows: { subject: string; median: number | null }[]) =>
    reportLookup(
      report({
        options: { ...report({}).options, scenarios: ['edge-memory'] },
        edgeMemory: {
          repeats: 1,
          settleMs: 1500,
          perShardRssKiB: null,
          runs: {},
          rows: rows.map(({ subject, median }) => ({
            subject,
            label: subject,
            rss: median === null ? null : { n: 2, median, min: median - 1, max: median + 1 },
            pss: null,
            vsBareNode: null,
            runErrors: median === null ? [{ code: 'memory_unreadable', message: 'gone' }] : [],
          })),
        },
      }),
    );

  it("reads a subject's median RSS (or its largest run), though it is no contender", () => {
    const lookup = edge([
      { subject: 'sluice-2-shards', median: 110_000 },
      { subject: 'bare-node-2-workers', median: 75_000 },
    ]);
    expect(lookup(EDGE_RSS, 'bare-node-2-workers')).toEqual({ kind: 'value', value: 75_000 });
    expect(lookup({ ...EDGE_RSS, statistic: 'max' }, 'sluice-2-shards')).toEqual({
      kind: 'value',
      value: 110_001,
    });
    expect(evaluateGate(EDGE_RSS, lookup).ratio).toBeCloseTo(75 / 110);
  });

  it('says which subject has no reading, and which contender the gate needs is missing', () => {
    const lookup = edge([{ subject: 'sluice-2-shards', median: null }]);
    expect(lookup(EDGE_RSS, 'sluice-2-shards')).toEqual({
      kind: 'missing',
      reason: 'memory_unreadable: gone',
    });
    expect(lookup(EDGE_RSS, 'bare-node-2-workers')).toEqual({
      kind: 'missing',
      reason: 'no edge-memory row for bare-node-2-workers (measured: sluice-2-shards)',
    });
    expect(lookup({ ...EDGE_RSS, contenders: ['nginx'] }, 'sluice-2-shards')).toMatchObject({
      kind: 'missing',
      reason: expect.stringMatching(/^nginx is not among this run's contenders/),
    });
  });
});

describe('reportLookup on small messages', () => {
  const RATE: GateSpec = {
    ...SPLICE,
    id: 'rate',
    scenario: 'small-messages',
    metric: 'requests_per_second',
    numerator: 'sluice-splice-1',
    denominator: 'haproxy',
    case: '64 B × 100',
  };
  const metrics = (perSecond: number) => ({
    perSecond: { n: 1, median: perSecond, min: perSecond, max: perSecond },
    p50Us: null,
    p99Us: null,
    p999Us: null,
  });
  const row = (contender: string, size: number, perSecond: number) => ({
    contender,
    label: contender,
    point: { size, connections: 100 },
    pointLabel: `${size === 64 ? '64 B' : '16 KiB'} × 100`,
    runs: [],
    summary: metrics(perSecond),
    vsDirect: { perSecond: null, p50Us: null, p99Us: null, p999Us: null },
    vsRedirect: { perSecond: null, p50Us: null, p99Us: null, p999Us: null },
  });
  const base = report({});
  const lookup = reportLookup(
    report({
      options: { ...base.options, scenarios: ['small-messages'] },
      contenders: [
        ...base.contenders.filter((c) => c.id !== 'haproxy'),
        { id: 'haproxy', label: 'H', relay: 'user-space', description: '', skipped: null },
      ],
      smallMessages: {
        points: [
          { size: 64, connections: 100 },
          { size: 16384, connections: 100 },
        ],
        rows: [
          row('sluice-splice-1', 64, 40_000),
          row('haproxy', 64, 50_000),
          row('sluice-splice-1', 16384, 9000),
        ],
        notApplicable: [{ contender: 'c-splice', label: 'C', reason: 'a throughput ceiling only' }],
        seconds: 2,
        warmupSeconds: 0.5,
        repeats: 1,
        workers: 1,
      },
    }),
  );

  it('picks the point the gate names', () => {
    expect(lookup(RATE, 'sluice-splice-1')).toEqual({ kind: 'value', value: 40_000 });
    expect(evaluateGate(RATE, lookup).ratio).toBeCloseTo(0.8);
  });

  it('needs a case when the scenario measured several points, and says which exist', () => {
    const o = lookup({ ...RATE, case: undefined }, 'sluice-splice-1');
    expect(o).toEqual({ kind: 'missing', reason: 'the gate needs a "case" among: 64 B × 100, 16 KiB × 100' });
    expect(lookup({ ...RATE, case: '1 KiB × 10' }, 'haproxy')).toEqual({
      kind: 'missing',
      reason: 'no "1 KiB × 10" point (measured: 64 B × 100, 16 KiB × 100)',
    });
  });

  it('says when the scenario does not apply to a contender', () => {
    expect(lookup(RATE, 'c-splice')).toEqual({
      kind: 'missing',
      reason: 'does not apply: a throughput ceiling only',
    });
  });
});

describe('calibration', () => {
  it('margin: twice the largest drop, at least 25 %, rounded up to 5 %', () => {
    expect(marginFor(0)).toBe(0.25);
    expect(marginFor(0.1)).toBe(0.25);
    expect(marginFor(0.13)).toBe(0.3);
    expect(marginFor(0.15)).toBe(0.3);
    expect(marginFor(0.16)).toBe(0.35);
  });

  it('gives median, spread and floor over runs, and names runs without a figure', () => {
    const runs = [0.8, 1.0, 0.95].map((r) => lookupOf({ 'sluice-splice-1': v(r * 10), 'c-splice': v(10) }));
    runs.push(lookupOf({ 'c-splice': v(10) }));
    const [row] = calibrate([SPLICE], runs);
    expect(row?.median).toBeCloseTo(0.95);
    expect(row?.min).toBeCloseTo(0.8);
    expect(row?.largestDrop).toBeCloseTo(0.158, 3);
    expect(row?.margin).toBe(0.35);
    expect(row?.floor).toBe(0.61);
    expect(row?.gaps).toEqual(['run 4: not in the test table']);
  });
});

describe('reportLookup on UDP', () => {
  // Received bit rate at an offered load: with the offered load the same for both contenders,
  // the ratio is the ratio of the fractions delivered (1 - loss).
  const UDP: GateSpec = {
    ...SPLICE,
    id: 'udp',
    scenario: 'udp',
    metric: 'bits_per_second',
    numerator: 'sluice-splice-1',
    denominator: 'redirect',
    case: '1G',
  };
  const row = (contender: string, point: number, received: number) => ({
    contender,
    label: contender,
    point,
    pointLabel: point === 1e9 ? '1G' : '100M',
    runs: [],
    summary: {
      bitsPerSecond: { n: 1, median: received, min: received, max: received },
      lostPercent: null,
      jitterMs: null,
    },
    vsDirect: { bitsPerSecond: null, lostPercent: null, jitterMs: null },
    vsRedirect: { bitsPerSecond: null, lostPercent: null, jitterMs: null },
  });
  const base = report({});
  const lookup = reportLookup(
    report({
      options: { ...base.options, scenarios: ['udp'] },
      contenders: [
        ...base.contenders,
        { id: 'redirect', label: 'R', relay: 'kernel', description: '', skipped: null },
      ],
      udp: {
        points: [100e6, 1e9],
        rows: [
          row('sluice-splice-1', 100e6, 100e6),
          row('sluice-splice-1', 1e9, 950e6),
          row('redirect', 1e9, 1e9),
        ],
        notApplicable: [{ contender: 'c-splice', label: 'C', reason: 'a TCP splice(2) relay' }],
        seconds: 2,
        repeats: 1,
        length: 1400,
        socketBuffer: 4_194_304,
      },
    }),
  );

  it('reads the received bit rate at the offered load the gate names', () => {
    expect(lookup(UDP, 'sluice-splice-1')).toEqual({ kind: 'value', value: 950e6 });
    expect(evaluateGate(UDP, lookup).ratio).toBeCloseTo(0.95);
    expect(lookup(UDP, 'c-splice')).toEqual({
      kind: 'missing',
      reason: 'does not apply: a TCP splice(2) relay',
    });
  });
});
