// A token bucket in three shared words (see qos-layout.ts), as GCRA: instead of a token count
// and a refill time, one "theoretical arrival time" (TAT). The bucket holds
//   tokens(now) = (now + LIMIT_NS - max(TAT, now)) x rate
// so it is full (one burst) when TAT <= now, and taking n units moves TAT forward by their cost.
// One compare-and-swap per take keeps it exact across threads with no lock.
//
// The same arithmetic runs in C++ for the splice path (packages/splice/src/qos-bucket.h); both
// use integer nanoseconds and round costs up, so neither side ever grants more than the cap.

import { BUCKET, NS_PER_RATE_UNIT } from './qos-layout.ts';

/** Smallest grant worth a splice: a bucket that holds less waits for this much (see minChunk). */
export const MAX_MIN_CHUNK = 16_384n;
/** A grant is at least this long a stretch of the rate, so slow caps do not wake per byte. */
const MIN_CHUNK_NS = 10_000_000n;
/**
 * A grant is at most this long a stretch of the rate (or the minimum chunk, if larger), so
 * connections sharing a bucket take turns in slices rather than one taking all it holds.
 */
const QUANTUM_NS = 5_000_000n;

/** What `units` cost at `rate` (units per 1000 s), rounded up to a whole nanosecond. */
export function costNs(units: bigint, rate: bigint): bigint {
  return (units * NS_PER_RATE_UNIT + rate - 1n) / rate;
}

/** Whole units earned at `rate` in `ns` (0 for ns <= 0). */
export function unitsIn(ns: bigint, rate: bigint): bigint {
  return ns <= 0n ? 0n : (ns * rate) / NS_PER_RATE_UNIT;
}

export function isCapped(words: BigInt64Array, at: number): boolean {
  return Atomics.load(words, at + BUCKET.RATE) !== 0n;
}

/**
 * All or nothing: takes `units` if the bucket holds them. Returns 0n when taken, otherwise the
 * nanoseconds until it would hold them. An uncapped bucket always takes.
 */
export function take(words: BigInt64Array, at: number, now: bigint, units: bigint): bigint {
  return advance(words, at, now, units, true);
}

/**
 * Unconditional: charges `units` even past empty (the bucket goes into debt). Returns 0n when
 * the bucket is still within its burst, otherwise the nanoseconds until it is again: the JS
 * relay has already read the bytes, so it charges them and holds them back that long.
 */
export function charge(words: BigInt64Array, at: number, now: bigint, units: bigint): bigint {
  return advance(words, at, now, units, false);
}

/** Moves the bucket's theoretical arrival time on by `units` (refused past the burst when `allOrNothing`). */
function advance(
  words: BigInt64Array,
  at: number,
  now: bigint,
  units: bigint,
  allOrNothing: boolean,
): bigint {
  const rate = Atomics.load(words, at + BUCKET.RATE);
  if (rate === 0n) return 0n;
  const limit = Atomics.load(words, at + BUCKET.LIMIT_NS);
  const cost = costNs(units, rate);
  for (;;) {
    const tat = Atomics.load(words, at + BUCKET.TAT_NS);
    const next = (tat > now ? tat : now) + cost;
    const over = next - now > limit ? next - now - limit : 0n;
    if (allOrNothing && over > 0n) return over;
    if (Atomics.compareExchange(words, at + BUCKET.TAT_NS, tat, next) === tat) return over;
  }
}

/** The smallest grant this bucket makes: 10 ms of its rate, at least 1, at most 16 KiB or one burst. */
export function minChunk(rate: bigint, limitNs: bigint): bigint {
  let chunk = unitsIn(MIN_CHUNK_NS, rate);
  if (chunk > MAX_MIN_CHUNK) chunk = MAX_MIN_CHUNK;
  const burst = unitsIn(limitNs, rate);
  if (chunk > burst) chunk = burst;
  return chunk < 1n ? 1n : chunk;
}

/** The largest grant one request gets: 5 ms of rate, at least the minimum chunk. */
export function quantum(rate: bigint, limitNs: bigint): bigint {
  const slice = unitsIn(QUANTUM_NS, rate);
  const least = minChunk(rate, limitNs);
  // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min and Math.max do not take
  return slice > least ? slice : least;
}

export interface Grant {
  /** Units granted; 0n means wait `waitNs`. */
  readonly granted: bigint;
  readonly waitNs: bigint;
}

/**
 * Partial: grants as many of `want` units as the bucket holds, at most one quantum and not
 * fewer than min(want, minChunk): a bucket holding less answers 0n and how long until it holds
 * that many.
 * The splice path asks before each read, so it never reads bytes it may not send.
 */
export function grant(words: BigInt64Array, at: number, now: bigint, asked: bigint): Grant {
  const rate = Atomics.load(words, at + BUCKET.RATE);
  if (rate === 0n) return { granted: asked, waitNs: 0n };
  const limit = Atomics.load(words, at + BUCKET.LIMIT_NS);
  const most = quantum(rate, limit);
  const want = asked > most ? most : asked;
  // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min and Math.max do not take
  const least = want < minChunk(rate, limit) ? want : minChunk(rate, limit);
  for (;;) {
    const tat = Atomics.load(words, at + BUCKET.TAT_NS);
    const base = tat > now ? tat : now;
    const held = unitsIn(now + limit - base, rate);
    if (held < least) return { granted: 0n, waitNs: base + costNs(least, rate) - limit - now };
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min and Math.max do not take
    const granted = held < want ? held : want;
    if (Atomics.compareExchange(words, at + BUCKET.TAT_NS, tat, base + costNs(granted, rate)) === tat) {
      return { granted, waitNs: 0n };
    }
  }
}

/** Gives back what a grant took but did not use (a short read, or another bucket said no). */
export function refund(words: BigInt64Array, at: number, granted: bigint, used: bigint): void {
  const rate = Atomics.load(words, at + BUCKET.RATE);
  if (rate === 0n || granted <= used) return;
  Atomics.sub(words, at + BUCKET.TAT_NS, costNs(granted, rate) - costNs(used, rate));
}

/** Units a bucket with this TAT holds at `now` (negative in debt). */
function heldAt(tat: bigint, now: bigint, rate: bigint, limit: bigint): bigint {
  const ns = now + limit - (tat > now ? tat : now);
  return ns >= 0n ? unitsIn(ns, rate) : -unitsIn(-ns, rate);
}

/** Units the bucket holds now (negative in debt; 0n when uncapped). */
export function tokens(words: BigInt64Array, at: number, now: bigint): bigint {
  const rate = Atomics.load(words, at + BUCKET.RATE);
  if (rate === 0n) return 0n;
  return heldAt(
    Atomics.load(words, at + BUCKET.TAT_NS),
    now,
    rate,
    Atomics.load(words, at + BUCKET.LIMIT_NS),
  );
}

/**
 * Sets a new rate and burst. The tokens held carry over, clamped to the new burst (debt carries
 * over too), to the nanosecond: what the bucket held at the old rate is re-expressed at the new
 * one, so no fraction of a token is lost. A bucket that was uncapped starts full. Setting the
 * same rate and burst again changes nothing. `rate` 0n removes the cap.
 *
 * The three words cannot change in one atomic step: a shard taking at that instant may use the
 * old rate with the new TAT once, an error of one grant, which is all a live change costs.
 */
export function configure(
  words: BigInt64Array,
  at: number,
  now: bigint,
  rate: bigint,
  burstUnits: bigint,
): void {
  if (rate === 0n) {
    Atomics.store(words, at + BUCKET.RATE, 0n);
    return;
  }
  const oldRate = Atomics.load(words, at + BUCKET.RATE);
  const oldLimit = Atomics.load(words, at + BUCKET.LIMIT_NS);
  const limit = costNs(burstUnits, rate);
  if (oldRate === rate && oldLimit === limit) return;
  for (;;) {
    const tat = Atomics.load(words, at + BUCKET.TAT_NS);
    // The time the held tokens took to earn at the old rate, then at the new one.
    let heldNs = oldRate === 0n ? limit : ((now + oldLimit - (tat > now ? tat : now)) * oldRate) / rate;
    if (heldNs > limit) heldNs = limit;
    if (Atomics.compareExchange(words, at + BUCKET.TAT_NS, tat, now + limit - heldNs) === tat) break;
  }
  Atomics.store(words, at + BUCKET.LIMIT_NS, limit);
  Atomics.store(words, at + BUCKET.RATE, rate);
}
