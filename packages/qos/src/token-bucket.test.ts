import { describe, expect, it } from 'vitest';
import { BUCKET, RATE_SCALE } from './qos-layout.ts';
import { charge, configure, costNs, grant, minChunk, quantum, refund, take, tokens } from './token-bucket.ts';

const S = 1_000_000_000n; // ns per second
const rate = (perSec: number) => BigInt(perSec * RATE_SCALE);

/** One bucket at word 0, configured at t = 10 s with `perSec` and `burst`. */
function bucket(perSec: number, burst: number, at = 10n * S): BigInt64Array {
  const words = new BigInt64Array(new SharedArrayBuffer(3 * 8));
  configure(words, 0, at, rate(perSec), BigInt(burst));
  return words;
}

describe('token bucket (GCRA) with an injected clock', () => {
  it('starts full: one burst at once, then exactly the rate', () => {
    const words = bucket(1000, 500);
    const t = 10n * S;
    expect(tokens(words, 0, t)).toBe(500n);
    expect(take(words, 0, t, 500n)).toBe(0n);
    expect(tokens(words, 0, t)).toBe(0n);
    // One more unit costs 1 ms at 1000/s.
    expect(take(words, 0, t, 1n)).toBe(1_000_000n);
    expect(take(words, 0, t + 999_999n, 1n)).toBe(1n);
    expect(take(words, 0, t + 1_000_000n, 1n)).toBe(0n);
  });

  it('refills to the burst and no further', () => {
    const words = bucket(1000, 500);
    const t = 10n * S;
    take(words, 0, t, 500n);
    expect(tokens(words, 0, t + S / 10n)).toBe(100n);
    expect(tokens(words, 0, t + 60n * S)).toBe(500n);
  });

  it('a connection-rate bucket admits its burst, then one per interval', () => {
    const words = bucket(2, 3);
    const t = 10n * S;
    const admitted = [0n, 0n, 0n, 0n].map(() => take(words, 0, t, 1n));
    expect(admitted).toEqual([0n, 0n, 0n, S / 2n]);
    expect(take(words, 0, t + S / 2n, 1n)).toBe(0n);
  });

  it('charge goes into debt and says how long to hold the bytes', () => {
    const words = bucket(1_000_000, 100_000); // 1 MB/s, 100 kB burst
    const t = 10n * S;
    expect(charge(words, 0, t, 65_536n)).toBe(0n);
    // 131072 charged, 31072 over the burst: 31.072 ms of debt.
    expect(charge(words, 0, t, 65_536n)).toBe(31_072_000n);
    expect(tokens(words, 0, t)).toBe(-31_072n);
  });

  it('grant gives what the bucket holds, one quantum at most, never less than its minimum chunk, and refunds the unused', () => {
    const words = bucket(1_000_000, 100_000);
    const t = 10n * S;
    expect(minChunk(rate(1_000_000), costNs(100_000n, rate(1_000_000)))).toBe(10_000n); // 10 ms of rate
    // 5 ms of rate is less than the minimum chunk, so a quantum is one minimum chunk.
    expect(quantum(rate(1_000_000), costNs(100_000n, rate(1_000_000)))).toBe(10_000n);
    for (let i = 0; i < 10; i++)
      expect(grant(words, 0, t, 1n << 20n)).toEqual({ granted: 10_000n, waitNs: 0n });
    // Empty: waits until 10 ms of rate (the minimum chunk) is there.
    expect(grant(words, 0, t + 5_000_000n, 1n << 20n)).toEqual({ granted: 0n, waitNs: 5_000_000n });
    expect(grant(words, 0, t + 10_000_000n, 1n << 20n)).toEqual({ granted: 10_000n, waitNs: 0n });
    // A read that moved 4000 of 10000 gives 6000 back.
    refund(words, 0, 10_000n, 4_000n);
    expect(tokens(words, 0, t + 10_000_000n)).toBe(6_000n);
  });

  it('the minimum chunk is at most one burst and 16 KiB, and at least one unit', () => {
    const fast = rate(100_000_000);
    // 10 ms of 100 MB/s is 1 MB: held to 16 KiB.
    expect(minChunk(fast, costNs(10_000_000n, fast))).toBe(16_384n);
    // A burst smaller than that: the burst.
    expect(minChunk(fast, costNs(4096n, fast))).toBe(4096n);
    // 10 ms of 10 units/s is 0.1 unit: one unit.
    expect(minChunk(rate(10), costNs(5n, rate(10)))).toBe(1n);
    expect(quantum(rate(10), costNs(5n, rate(10)))).toBe(1n);
  });

  it('grant asks for no more than it wants, and a small ask waits only for itself', () => {
    const words = bucket(1_000_000, 100_000);
    const t = 10n * S;
    // Less than a minimum chunk is granted as asked, and the bucket keeps the rest.
    expect(grant(words, 0, t, 3000n)).toEqual({ granted: 3000n, waitNs: 0n });
    expect(tokens(words, 0, t)).toBe(97_000n);
    // Drained to 500: an ask of 2000 waits for 1500 more (1.5 ms), not for a minimum chunk.
    take(words, 0, t, 96_500n);
    expect(grant(words, 0, t, 2000n)).toEqual({ granted: 0n, waitNs: 1_500_000n });
    // Holding more than asked but less than a quantum: the ask.
    expect(grant(words, 0, t + 20_000_000n, 7000n)).toEqual({ granted: 7000n, waitNs: 0n });
    // Holding less than a quantum but more than a minimum chunk: all it holds.
    const drained = bucket(1_000_000, 100_000);
    take(drained, 0, t, 88_000n);
    expect(grant(drained, 0, t, 1n << 20n)).toEqual({ granted: 10_000n, waitNs: 0n });
    expect(grant(drained, 0, t, 1n << 20n)).toEqual({ granted: 0n, waitNs: 8_000_000n });
  });

  it('refund gives back only what a grant took and did not use, and nothing to an uncapped bucket', () => {
    const words = bucket(1_000_000, 100_000);
    const t = 10n * S;
    take(words, 0, t, 100_000n);
    refund(words, 0, 10_000n, 10_000n);
    refund(words, 0, 10_000n, 12_000n);
    expect(tokens(words, 0, t)).toBe(0n);
    refund(words, 0, 10_000n, 0n);
    expect(tokens(words, 0, t)).toBe(10_000n);
    const free = new BigInt64Array(new SharedArrayBuffer(3 * 8));
    refund(free, 0, 10_000n, 0n);
    expect(free[BUCKET.TAT_NS]).toBe(0n);
  });

  it('a quantum is 5 ms of a fast rate: sharers of one bucket take turns in slices', () => {
    const gbit = rate(125_000_000);
    const words = bucket(125_000_000, 125_000_000);
    expect(quantum(gbit, costNs(125_000_000n, gbit))).toBe(625_000n);
    expect(grant(words, 0, 10n * S, 1n << 20n).granted).toBe(625_000n);
  });

  it('an uncapped bucket grants everything and never waits', () => {
    const words = new BigInt64Array(new SharedArrayBuffer(3 * 8));
    expect(grant(words, 0, 5n, 1234n)).toEqual({ granted: 1234n, waitNs: 0n });
    expect(charge(words, 0, 5n, 1n << 30n)).toBe(0n);
    expect(take(words, 0, 5n, 1n)).toBe(0n);
    expect(words[BUCKET.TAT_NS]).toBe(0n);
  });

  it('reconfiguring carries the tokens over, clamped to the new burst; debt carries over too', () => {
    const t = 10n * S;
    const words = bucket(1000, 1000);
    take(words, 0, t, 400n); // 600 left
    configure(words, 0, t, rate(10_000), 5000n);
    expect(tokens(words, 0, t)).toBe(600n);
    configure(words, 0, t, rate(10_000), 200n);
    expect(tokens(words, 0, t)).toBe(200n);
    charge(words, 0, t, 1200n); // 1000 in debt
    configure(words, 0, t, rate(1000), 200n);
    expect(tokens(words, 0, t)).toBe(-1000n);
    configure(words, 0, t, 0n, 0n);
    expect(take(words, 0, t, 1n << 40n)).toBe(0n);
  });

  it('never lets more than burst + rate x window through, over any window', () => {
    // A greedy sender with random request sizes and random gaps, for 20 simulated seconds.
    const perSec = 125_000; // 1 Mbit/s
    const burst = 20_000;
    const words = bucket(perSec, burst, 0n);
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const sent: { at: bigint; bytes: bigint }[] = [];
    let now = 0n;
    while (now < 20n * S) {
      const want = BigInt(1 + Math.floor(random() * 70_000));
      const g = grant(words, 0, now, want);
      if (g.granted > 0n) {
        const used = g.granted - BigInt(Math.floor(random() * Number(g.granted) * 0.2));
        refund(words, 0, g.granted, used);
        sent.push({ at: now, bytes: used });
        now += BigInt(Math.floor(random() * 2_000_000));
      } else {
        now += g.waitNs;
      }
    }
    let total = 0n;
    for (const s of sent) total += s.bytes;
    // Over the whole run: the burst plus 20 s of rate, and not much less (the sender is greedy).
    expect(total).toBeLessThanOrEqual(BigInt(burst + 20 * perSec));
    expect(total).toBeGreaterThan(BigInt(Math.floor(0.97 * 20 * perSec)));
    let worstExcess = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < sent.length; i++) {
      let inWindow = 0;
      for (let j = i; j < sent.length; j++) {
        inWindow += Number(sent[j]!.bytes);
        const allowed = burst + (Number(sent[j]!.at - sent[i]!.at) * perSec) / 1e9;
        worstExcess = Math.max(worstExcess, inWindow - allowed);
      }
    }
    expect(sent.length).toBeGreaterThan(500);
    expect(worstExcess).toBeLessThanOrEqual(1);
  });

  it('reconfiguring with the same rate and burst keeps a partly earned token (a reload of anything else)', () => {
    // 0.1 connections/s, burst 1: the token after one admission takes 10 s to earn.
    const words = bucket(0.1, 1);
    const t = 10n * S;
    expect(take(words, 0, t, 1n)).toBe(0n);
    configure(words, 0, t + 9_900_000_000n, rate(0.1), 1n);
    expect(take(words, 0, t + 10_100_000_000n, 1n)).toBe(0n);
  });

  it('reconfiguring to another rate re-expresses the earned time without rounding it away', () => {
    const words = bucket(0.1, 1);
    const t = 10n * S;
    take(words, 0, t, 1n);
    // 9.9 s of 10 earned (0.99 of a token); at 0.2/s that is 4.95 s of 5.
    configure(words, 0, t + 9_900_000_000n, rate(0.2), 1n);
    expect(take(words, 0, t + 9_900_000_000n + 40_000_000n, 1n)).toBe(10_000_000n);
    expect(take(words, 0, t + 9_900_000_000n + 50_000_000n, 1n)).toBe(0n);
  });
});
