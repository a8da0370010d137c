// A smoke run of each scenario for a second or so against loopback contenders (direct, and the
// naive pipe proxy where a relay process is needed; sluice's edge on the JS path for bandwidth
// caps): real targets, real load generators, real iperf3. Not a measurement: it checks that
// every scenario runs end to end and reports.

import { availableParallelism } from 'node:os';
import { findIperf3 } from '@sluice/iperf3';
import { beforeAll, describe, expect, it } from 'vitest';
import { direct } from '../contenders/direct.ts';
import { naivePipe } from '../contenders/naive-pipe.ts';
import { sluiceJs1 } from '../contenders/sluice-edge.ts';
import { runConnectRate } from './connect-rate.ts';
import { runHttp } from './http.ts';
import { runIdleMemory } from './idle-memory.ts';
import { runParallel } from './parallel.ts';
import { QOS_CAP_METRICS, runQosCap } from './qos-cap.ts';
import type { ScenarioContext } from './scenario.ts';
import { runSmallMessages } from './small-messages.ts';
import { runSweep } from './sweep.ts';
import { throughputFromSweep } from './throughput.ts';
import { runUdp } from './udp.ts';

const lines: string[] = [];
const ctx: ScenarioContext = { contenders: [direct, naivePipe], log: (line) => lines.push(line) };
const quick = { seconds: 1, repeats: 1 };

describe('scenario smoke runs (1 s each)', () => {
  // `./run test` installs iperf3 (scripts/system-deps.sh); without it these must fail, not skip.
  beforeAll(() => {
    if (findIperf3() === null) throw new Error('iperf3 is not installed: apt-get install -y iperf3');
  });

  it('sweep: a bitrate and unlimited, with the throughput view', async () => {
    const sweep = await runSweep(ctx, { ...quick, bitrates: [200e6, 0] });
    expect(sweep.rows).toHaveLength(4);
    expect(sweep.rows.every((r) => r.runs[0]?.error === null)).toBe(true);
    const at200 = sweep.rows.find((r) => r.contender === 'naive-pipe' && r.point === 200e6);
    expect(at200?.summary.bitsPerSecond?.median).toBeGreaterThan(100e6);
    expect(at200?.vsDirect.bitsPerSecond).not.toBeNull();
    expect(throughputFromSweep(sweep)?.rows.map((r) => r.contender)).toEqual(['direct', 'naive-pipe']);
  }, 30_000);

  it('parallel: -P 2', async () => {
    const report = await runParallel(ctx, { ...quick, streams: 2 });
    expect(report.rows.map((r) => r.runs[0]?.detail?.streams)).toEqual([2, 2]);
  }, 30_000);

  it('udp: direct and the sluice edge measured, with loss; the TCP-only relay not applicable', async () => {
    const report = await runUdp(
      { ...ctx, contenders: [direct, naivePipe, sluiceJs1] },
      { ...quick, bitrates: [10e6], length: 1400, socketBuffer: 4_194_304 },
    );
    expect(report.notApplicable).toEqual([
      { contender: 'naive-pipe', label: naivePipe.label, reason: naivePipe.udpNotApplicable },
    ]);
    expect(report.rows.map((r) => r.contender)).toEqual(['direct', 'sluice-js-1']);
    for (const row of report.rows) {
      expect(row.runs[0]?.error).toBeNull();
      expect(row.summary.bitsPerSecond?.median).toBeGreaterThan(5e6);
      // Most datagrams arrive at 10 Mbit/s; the loss is the receiver's own count.
      expect(row.summary.lostPercent?.median).toBeLessThan(50);
      expect(row.runs[0]?.detail?.lostPercent).toBe(row.summary.lostPercent?.median);
    }
  }, 60_000);

  it('small-messages: echo round trips from the piscina workers, with percentiles', async () => {
    const report = await runSmallMessages(ctx, {
      ...quick,
      warmupSeconds: 0,
      sizes: [64],
      connections: [4],
    });
    expect(report.workers).toBeGreaterThanOrEqual(1);
    for (const row of report.rows) {
      expect(row.runs[0]?.error).toBeNull();
      const s = row.summary;
      expect(s.perSecond?.median).toBeGreaterThan(100);
      expect(s.p50Us!.median).toBeLessThanOrEqual(s.p99Us!.median);
      expect(s.p99Us!.median).toBeLessThanOrEqual(s.p999Us!.median);
    }
  }, 30_000);

  it('http: autocannon against the node target', async () => {
    const report = await runHttp(ctx, { ...quick, warmupSeconds: 0, connections: [4] });
    for (const row of report.rows) {
      expect(row.runs[0]?.error).toBeNull();
      expect(row.summary.requestsPerSecond?.median).toBeGreaterThan(100);
    }
  }, 30_000);

  it('connect-rate: connect, round trip, close', async () => {
    const report = await runConnectRate(ctx, { ...quick, warmupSeconds: 0, loops: 2 });
    for (const row of report.rows) {
      expect(row.runs[0]?.error).toBeNull();
      expect(row.summary.perSecond?.median).toBeGreaterThan(10);
    }
  }, 30_000);

  it('idle-memory: a relay process measured at two counts; no relay, nothing to measure', async () => {
    const report = await runIdleMemory(ctx, { connections: [50, 20], repeats: 1 });
    expect(report.byCount.map((b) => b.count.connections)).toEqual([20, 50]);
    expect(report.notMeasured).toEqual([{ contender: 'direct', reason: 'no relay' }]);
    const row = report.byCount[1]?.rows[0];
    expect(row?.contender).toBe('naive-pipe');
    expect(row?.error).toBeNull();
    expect(row?.perConnectionKiB).not.toBeNull();
    expect(report.connections).toBe(50);
  }, 60_000);

  it('qos-cap: one cap on one flow (rule) and two (owner) through the edge; direct not applicable', async () => {
    const report = await runQosCap(
      { ...ctx, contenders: [direct, sluiceJs1] },
      { ...quick, caps: [100e6], streams: 2, omitSeconds: 1 },
    );
    expect(report.notApplicable.map((n) => n.contender)).toEqual(['direct']);
    expect(report.rows.map((r) => [r.contender, r.point.scope, r.point.streams])).toEqual([
      ['sluice-js-1', 'rule', 1],
      ['sluice-js-1', 'owner', 2],
    ]);
    for (const row of report.rows) {
      const run = row.runs[0];
      expect(run?.error).toBeNull();
      expect(run?.detail?.iperf3.streams).toBe(row.point.streams);
      expect(run?.detail?.iperf3.omitSeconds).toBe(1);
      expect(run?.detail?.clientSeconds).toBeGreaterThan(1);
      expect(Object.keys(row.summary).sort()).toEqual([...QOS_CAP_METRICS].sort());
      // Not an accuracy check: a second is too short to hold a cap to 2 %.
      const ofCap = row.summary.ofCap?.median;
      expect(Number.isFinite(ofCap)).toBe(true);
      expect(ofCap).toBeGreaterThan(0);
      // The edge's CPU was measured (one run, so the medians are that run's figures): a finite
      // share of at most every core, and the per-Gbit figure is that share over the rate.
      const cpuPercent = row.summary.cpuPercent?.median ?? Number.NaN;
      expect(Number.isFinite(cpuPercent)).toBe(true);
      expect(cpuPercent).toBeLessThanOrEqual(100 * availableParallelism());
      const gbits = (row.summary.bitsPerSecond?.median ?? Number.NaN) / 1e9;
      expect(row.summary.cpuSecondsPerGbit?.median).toBeCloseTo(cpuPercent / 100 / gbits, 6);
      expect(row.vsDirect.ofCap).toBeNull();
    }
    expect([report.omitSeconds, report.burstSeconds, report.target]).toEqual([1, 1, 0.02]);
  }, 60_000);
});
