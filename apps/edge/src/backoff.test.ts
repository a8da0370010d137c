import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';

/** A random source that returns the given values in turn, then repeats the last. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

describe('Backoff', () => {
  it('doubles from 0.5..1 s up to 15..30 s: the lowest and highest draws bound every wait', () => {
    const low = new Backoff({ random: () => 0 });
    const high = new Backoff({ random: () => 0.999999999 });
    const lows = Array.from({ length: 12 }, () => low.next());
    const highs = Array.from({ length: 12 }, () => high.next());
    expect(lows).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000, 15000, 15000, 15000]);
    expect(highs).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000, 30000, 30000]);
  });

  it('puts half of each wait at random', () => {
    const backoff = new Backoff({ random: sequence(0.5, 0.25, 0.75) });
    expect(backoff.next()).toBe(750); // ceiling 1000: 500 + 0.5 x 500
    expect(backoff.next()).toBe(1250); // ceiling 2000: 1000 + 0.25 x 1000
    expect(backoff.next()).toBe(3500); // ceiling 4000: 2000 + 0.75 x 2000
  });

  it('never leaves 0.5 s .. 30 s, even with a random source out of range', () => {
    const backoff = new Backoff({ random: sequence(-5, 7, Number.NaN, 0.3) });
    for (let i = 0; i < 40; i++) {
      const wait = backoff.next();
      expect(wait).toBeGreaterThanOrEqual(500);
      expect(wait).toBeLessThanOrEqual(30_000);
    }
    const real = new Backoff();
    const waits = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const wait = real.next();
      expect(wait).toBeGreaterThanOrEqual(500);
      expect(wait).toBeLessThanOrEqual(30_000);
      waits.add(wait);
    }
    // Math.random really spreads the waits at the cap.
    expect(waits.size).toBeGreaterThan(50);
  });

  it('starts over after reset(); atMax() waits at the cap without moving the sequence', () => {
    const backoff = new Backoff({ random: () => 0 });
    backoff.next();
    backoff.next();
    expect(backoff.atMax()).toBe(15_000);
    expect(backoff.next()).toBe(2000);
    backoff.reset();
    expect(backoff.next()).toBe(500);
  });

  it('takes other bounds and refuses inverted ones', () => {
    const backoff = new Backoff({ minMs: 10, maxMs: 40, random: () => 0.999999999 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([20, 40, 40]);
    expect(() => new Backoff({ minMs: 100, maxMs: 50 })).toThrow(RangeError);
    expect(() => new Backoff({ minMs: 0 })).toThrow(RangeError);
  });
});
