import { describe, expect, it } from 'vitest';
import { resolveOptions } from './cli-options.ts';
import { BENCH_ERRORS } from './errors.ts';
import { FULL_PLAN, QUICK_PLAN } from './scenarios/plan.ts';

const IDS = ['direct', 'redirect', 'naive-pipe', 'haproxy'];

function badFlag(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (BENCH_ERRORS.is(err) && err.code === 'bad_flag') return err.message;
    throw err;
  }
  throw new Error('expected bad_flag');
}

describe('resolveOptions', () => {
  it('runs everything with the full defaults', () => {
    expect(resolveOptions({}, IDS)).toEqual({
      quick: false,
      scenarios: [
        'throughput',
        'sweep',
        'parallel',
        'udp',
        'small-messages',
        'http',
        'connect-rate',
        'idle-memory',
        'edge-memory',
        'qos-cap',
      ],
      contenders: IDS,
      seconds: 10,
      repeats: 3,
      plan: FULL_PLAN,
    });
  });

  it('takes the quick plan with --quick; explicit flags still win', () => {
    const quick = resolveOptions({ quick: true }, IDS);
    expect([quick.seconds, quick.repeats]).toEqual([2, 1]);
    expect(quick.plan).toEqual(QUICK_PLAN);
    const longer = resolveOptions({ quick: true, duration: '5', repeats: '2', connections: '4000,500' }, IDS);
    expect([longer.plan.seconds, longer.plan.repeats, longer.plan.idleConnections]).toEqual([
      5,
      2,
      [4000, 500],
    ]);
    expect(longer.plan.sweepBitrates).toEqual(QUICK_PLAN.sweepBitrates);
  });

  it('keeps table order for --contenders and --only', () => {
    expect(resolveOptions({ contenders: 'haproxy, direct' }, IDS).contenders).toEqual(['direct', 'haproxy']);
    expect(resolveOptions({ only: 'idle-memory' }, IDS).scenarios).toEqual(['idle-memory']);
    expect(resolveOptions({ only: 'qos-cap,udp' }, IDS).scenarios).toEqual(['udp', 'qos-cap']);
  });

  it('names the flag and the accepted values when a value is unknown or malformed', () => {
    expect(badFlag(() => resolveOptions({ contenders: 'direct,nginx' }, IDS))).toBe(
      '--contenders: unknown contender "nginx" (any of: direct, redirect, naive-pipe, haproxy)',
    );
    expect(badFlag(() => resolveOptions({ only: 'latency' }, IDS))).toBe(
      '--only: unknown scenario "latency" (one of: throughput, sweep, parallel, udp, small-messages, http, connect-rate, idle-memory, edge-memory, qos-cap)',
    );
    expect(badFlag(() => resolveOptions({ connections: '1000,lots' }, IDS))).toBe(
      '--connections: expected a whole number from 1 to 100000, got "lots"',
    );
    expect(badFlag(() => resolveOptions({ repeats: '0' }, IDS))).toBe(
      '--repeats: expected a whole number from 1 to 100, got "0"',
    );
    expect(badFlag(() => resolveOptions({ duration: '2.5' }, IDS))).toMatch(/^--duration: /);
  });
});
