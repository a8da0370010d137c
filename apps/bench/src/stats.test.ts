import { describe, expect, it } from 'vitest';
import { median, ratio, summarize } from './stats.ts';

describe('median', () => {
  it('takes the middle value of an odd count, whatever the order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([7])).toBe(7);
  });

  it('takes the mean of the middle two of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('gives median, min, max and count', () => {
    expect(summarize([10, 30, 20])).toEqual({ n: 3, median: 20, min: 10, max: 30 });
  });

  it('leaves out values that are not finite and is null when none remain', () => {
    expect(summarize([Number.NaN, 5])).toEqual({ n: 1, median: 5, min: 5, max: 5 });
    expect(summarize([])).toBeNull();
    expect(summarize([Number.POSITIVE_INFINITY])).toBeNull();
  });
});

describe('ratio', () => {
  it('divides by the baseline', () => {
    expect(ratio(5, 10)).toBe(0.5);
    expect(ratio(30, 10)).toBe(3);
  });

  it('is null without a usable baseline or value', () => {
    expect(ratio(5, null)).toBeNull();
    expect(ratio(5, undefined)).toBeNull();
    expect(ratio(5, 0)).toBeNull();
    expect(ratio(5, -1)).toBeNull();
    expect(ratio(null, 10)).toBeNull();
    expect(ratio(Number.NaN, 10)).toBeNull();
  });
});
