import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random.ts';

describe('seededRandom', () => {
  it('gives the same numbers in [0, 1) for the same seed, and others for another', () => {
    const a = Array.from({ length: 100 }, seededRandom(42));
    expect(Array.from({ length: 100 }, seededRandom(42))).toEqual(a);
    expect(Array.from({ length: 100 }, seededRandom(43))).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(a).size).toBe(100);
  });
});
