import { describe, expect, it } from 'vitest';
import {
  encodeHistogram,
  latencySummary,
  mergeHistograms,
  newLatencyHistogram,
  perSecond,
  recordMicros,
} from './latency.ts';
import { splitEvenly } from './load-pool.ts';

function histogramOf(values: readonly number[]): string {
  const h = newLatencyHistogram();
  for (const v of values) recordMicros(h, v);
  return encodeHistogram(h);
}

describe('latency percentiles', () => {
  it('reads p50, p99 and p99.9 of 1..1000 µs', () => {
    const all = Array.from({ length: 1000 }, (_, i) => i + 1);
    const summary = latencySummary(mergeHistograms([histogramOf(all)]));
    expect(summary).toMatchObject({ count: 1000, p50Us: 500, p99Us: 990, p999Us: 999, maxUs: 1000 });
    expect(summary?.meanUs).toBeCloseTo(500.5, 1);
  });

  it("adds up the workers' histograms before taking percentiles", () => {
    // One worker fast, one slow: the tail is the slow one's, which neither alone shows at p50.
    const fast = histogramOf(Array.from({ length: 900 }, () => 100));
    const slow = histogramOf(Array.from({ length: 100 }, () => 5000));
    const summary = latencySummary(mergeHistograms([fast, slow]));
    expect(summary?.count).toBe(1000);
    expect(summary?.p50Us).toBe(100);
    expect(summary?.p99Us).toBeGreaterThanOrEqual(4995);
    expect(summary?.p99Us).toBeLessThanOrEqual(5005);
  });

  it('keeps 3 significant digits at large values and clamps what is out of range', () => {
    const summary = latencySummary(mergeHistograms([histogramOf([123_456, 0.2, 1e12])]));
    expect(summary?.count).toBe(3);
    expect(summary?.p50Us).toBeGreaterThanOrEqual(123_000);
    expect(summary?.p50Us).toBeLessThanOrEqual(123_600);
    expect(summary?.maxUs).toBeGreaterThanOrEqual(59_900_000);
  });

  it('has no summary for an empty histogram', () => {
    expect(latencySummary(mergeHistograms([histogramOf([])]))).toBeNull();
    expect(latencySummary(mergeHistograms([]))).toBeNull();
  });
});

describe('perSecond / splitEvenly', () => {
  it('turns a count over a window into a rate', () => {
    expect(perSecond(5000, 2000)).toBe(2500);
    expect(() => perSecond(1, 0)).toThrow(RangeError);
  });

  it('splits connections over workers, never giving one none', () => {
    expect(splitEvenly(500, 2)).toEqual([250, 250]);
    expect(splitEvenly(101, 2)).toEqual([51, 50]);
    expect(splitEvenly(1, 4)).toEqual([1]);
    expect(splitEvenly(10, 3)).toEqual([4, 3, 3]);
  });
});
