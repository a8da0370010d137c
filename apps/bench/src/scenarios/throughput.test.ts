import { describe, expect, it } from 'vitest';
import { type ThroughputRun, throughputRows } from './throughput.ts';

const ok = (repeat: number, gbits: number): ThroughputRun => ({
  repeat,
  bitsPerSecond: gbits * 1e9,
  iperf3: null,
  error: null,
});
const failed = (repeat: number): ThroughputRun => ({
  repeat,
  bitsPerSecond: null,
  iperf3: null,
  error: { code: 'iperf3_client_failed', message: 'iperf3 client failed: boom' },
});

const CONTENDERS = [
  { id: 'direct', label: 'direct' },
  { id: 'redirect', label: 'iptables REDIRECT' },
  { id: 'naive-pipe', label: 'naive pipe' },
  { id: 'haproxy', label: 'HAProxy' },
];

describe('throughputRows', () => {
  it('summarizes each contender and divides its median by the direct and redirect medians', () => {
    const runs = new Map<string, ThroughputRun[]>([
      ['direct', [ok(1, 20), ok(2, 30), ok(3, 40)]],
      ['redirect', [ok(1, 10), ok(2, 15), ok(3, 20)]],
      ['naive-pipe', [ok(1, 3), ok(2, 6), ok(3, 4.5)]],
      ['haproxy', [ok(1, 5), failed(2), ok(3, 7)]],
    ]);
    const rows = throughputRows(CONTENDERS, runs);
    expect(rows.map((r) => r.contender)).toEqual(['direct', 'redirect', 'naive-pipe', 'haproxy']);
    const [direct, redirect, naive, haproxy] = rows;
    expect(direct?.summary).toEqual({ n: 3, median: 30e9, min: 20e9, max: 40e9 });
    expect(direct?.vsDirect).toBe(1);
    expect(direct?.vsRedirect).toBe(2);
    expect(redirect?.vsDirect).toBe(0.5);
    expect(naive?.vsDirect).toBeCloseTo(0.15, 12);
    expect(naive?.vsRedirect).toBeCloseTo(0.3, 12);
    // A failed run leaves the others' median: (5 + 7) / 2.
    expect(haproxy?.summary).toEqual({ n: 2, median: 6e9, min: 5e9, max: 7e9 });
    expect(haproxy?.runs).toHaveLength(3);
  });

  it('gives no ratio where the baseline did not run or every run failed', () => {
    const rows = throughputRows(
      CONTENDERS,
      new Map([
        ['direct', [failed(1)]],
        ['naive-pipe', [ok(1, 4)]],
      ]),
    );
    const naive = rows.find((r) => r.contender === 'naive-pipe');
    expect(naive?.vsDirect).toBeNull();
    expect(naive?.vsRedirect).toBeNull();
    expect(rows.find((r) => r.contender === 'direct')?.summary).toBeNull();
    expect(rows.find((r) => r.contender === 'haproxy')?.runs).toEqual([]);
  });
});
