import { describe, expect, it } from 'vitest';
import type { Contender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { type MatrixRun, matrixRows, runMatrix } from './matrix.ts';

type M = 'rate' | 'p99';
const ok = (repeat: number, rate: number, p99: number): MatrixRun<M> => ({
  repeat,
  metrics: { rate, p99 },
  detail: null,
  error: null,
});
const failed = (repeat: number): MatrixRun<M> => ({
  repeat,
  metrics: null,
  detail: null,
  error: { code: 'load_failed', message: 'small-messages load through x: boom' },
});

const CONTENDERS = [
  { id: 'direct', label: 'direct' },
  { id: 'redirect', label: 'REDIRECT' },
  { id: 'haproxy', label: 'HAProxy' },
];
const label = (p: number): string => `${p} B`;
const key = (c: string, p: number): string => `${c}\u0000${label(p)}`;

describe('matrixRows', () => {
  it('summarizes every metric per point and divides by the baselines at the same point', () => {
    const runs = new Map<string, MatrixRun<M>[]>([
      [key('direct', 64), [ok(1, 100, 10), ok(2, 120, 12), ok(3, 110, 20)]],
      [key('redirect', 64), [ok(1, 50, 20)]],
      [key('haproxy', 64), [ok(1, 55, 40), failed(2), ok(3, 65, 30)]],
      [key('direct', 1024), [ok(1, 10, 100)]],
      [key('haproxy', 1024), [ok(1, 5, 300)]],
    ]);
    const rows = matrixRows(CONTENDERS, ['rate', 'p99'], [64, 1024], label, runs);
    expect(rows.map((r) => `${r.contender} ${r.pointLabel}`)).toEqual([
      'direct 64 B',
      'redirect 64 B',
      'haproxy 64 B',
      'direct 1024 B',
      'haproxy 1024 B',
    ]);
    const haproxy64 = rows[2]!;
    expect(haproxy64.summary.rate).toEqual({ n: 2, median: 60, min: 55, max: 65 });
    expect(haproxy64.vsDirect.rate).toBeCloseTo(60 / 110, 12);
    expect(haproxy64.vsRedirect.rate).toBeCloseTo(60 / 50, 12);
    expect(haproxy64.vsDirect.p99).toBeCloseTo(35 / 12, 12);
    expect(haproxy64.runs).toHaveLength(3);
    // No REDIRECT run at 1024 B: no ratio to it there, whatever happened at 64 B.
    expect(rows[4]?.vsDirect.rate).toBe(0.5);
    expect(rows[4]?.vsRedirect.rate).toBeNull();
  });

  it('keeps a contender whose every run failed, with null summaries', () => {
    const runs = new Map([[key('haproxy', 64), [failed(1)]]]);
    const [row] = matrixRows(CONTENDERS, ['rate', 'p99'], [64], label, runs);
    expect(row?.summary).toEqual({ rate: null, p99: null });
    expect(row?.vsDirect).toEqual({ rate: null, p99: null });
  });
});

function fake(id: string, relay: Contender['relay'] = 'user-space'): Contender {
  return {
    id,
    label: id,
    relay,
    description: '',
    unavailableReason: async () => null,
    start: async () => ({ pid: null, connectPort: 1, stop: async () => {} }),
  };
}

describe('runMatrix', () => {
  it('interleaves repeats, points and contenders; marks the inapplicable; stops retrying a contender that cannot start', async () => {
    const order: string[] = [];
    const steps: string[] = [];
    const result = await runMatrix(
      {
        contenders: [fake('direct', 'none'), fake('broken'), fake('skip')],
        log: () => {},
        onStep: (s) => steps.push(`${s.index}/${s.total}`),
      },
      {
        scenario: 'small-messages',
        metrics: ['rate'],
        points: [1, 2],
        pointLabel: String,
        repeats: 2,
        secondsPerRun: 1,
        notApplicable: (c) => (c.id === 'skip' ? 'not for this one' : null),
        run: async (c, point, repeat) => {
          order.push(`${repeat}:${point}:${c.id}`);
          if (c.id === 'broken')
            throw BENCH_ERRORS.error('contender_start_failed', { contender: c.id, reason: 'x' });
          return { metrics: { rate: point * 10 }, detail: null };
        },
        describe: (m) => String(m.rate),
      },
    );
    expect(order).toEqual(['1:1:direct', '1:1:broken', '1:2:direct', '2:1:direct', '2:2:direct']);
    expect(steps).toEqual(['1/8', '2/8', '3/8', '4/8', '5/8', '6/8', '7/8', '8/8']);
    expect(result.notApplicable).toEqual([{ contender: 'skip', label: 'skip', reason: 'not for this one' }]);
    const broken = result.rows.filter((r) => r.contender === 'broken');
    expect(broken.flatMap((r) => r.runs.map((run) => run.error?.code))).toEqual([
      'contender_start_failed',
      'contender_start_failed',
      'contender_start_failed',
      'contender_start_failed',
    ]);
    expect(result.rows.find((r) => r.contender === 'direct' && r.point === 2)?.summary.rate?.median).toBe(20);
  });
});
