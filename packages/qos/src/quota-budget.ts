// An owner's monthly quota on this edge, as the data plane sees it: two words of the owner's
// QoS entity (qos-layout.ts), CAPPED and LEFT. The server sets LEFT from the budget it pushes;
// every relay path takes bytes from it before it moves them (or, on the JS path, as it moves a
// chunk it has read), so the whole edge stops within one grant of the budget, without waiting
// for a stats round trip. A take is one compare-and-swap, as for the token buckets.
//
// The same arithmetic runs in C++ for the splice path (packages/splice/src/quota-budget.h).

import { QOS_FIELD } from './qos-layout.ts';

/** Whether the owner whose entity starts at `owner` has a quota on this edge. */
export function quotaCapped(words: BigInt64Array, owner: number): boolean {
  return Atomics.load(words, owner + QOS_FIELD.QUOTA_CAPPED) !== 0n;
}

/** Bytes the owner may still move (0n when uncapped: ask quotaCapped first). */
export function quotaLeft(words: BigInt64Array, owner: number): bigint {
  return Atomics.load(words, owner + QOS_FIELD.QUOTA_LEFT);
}

/** A capped owner with nothing left: new connections are refused, live ones cut. */
export function quotaExhausted(words: BigInt64Array, owner: number): boolean {
  return quotaCapped(words, owner) && quotaLeft(words, owner) <= 0n;
}

/**
 * Takes up to `want` bytes from the owner's budget and answers how many it got: all of them
 * when uncapped, fewer when the budget holds fewer, 0n when it is spent.
 */
export function takeQuota(words: BigInt64Array, owner: number, want: bigint): bigint {
  if (!quotaCapped(words, owner)) return want;
  const at = owner + QOS_FIELD.QUOTA_LEFT;
  for (;;) {
    const left = Atomics.load(words, at);
    if (left <= 0n) return 0n;
    const granted = left < want ? left : want;
    if (Atomics.compareExchange(words, at, left, left - granted) === left) return granted;
  }
}

/** Gives back the part of a take that was not used (a short read). */
export function refundQuota(words: BigInt64Array, owner: number, granted: bigint, used: bigint): void {
  if (granted > used && quotaCapped(words, owner))
    Atomics.add(words, owner + QOS_FIELD.QUOTA_LEFT, granted - used);
}

/**
 * Sets the budget: `left` bytes, or null for no quota. A take racing this store loses at most
 * the one grant it made, which is what a live change costs (as configure() for the buckets).
 */
export function setQuota(words: BigInt64Array, owner: number, left: bigint | null): void {
  Atomics.store(words, owner + QOS_FIELD.QUOTA_LEFT, left === null || left < 0n ? 0n : left);
  Atomics.store(words, owner + QOS_FIELD.QUOTA_CAPPED, left === null ? 0n : 1n);
}
