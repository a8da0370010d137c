// The one layout of the counters SharedArrayBuffer, imported by the supervisor (reader), the
// shards (writers) and, later, the native splice addon (writer on the shard's thread).
// Every word is a BigInt64 updated with Atomics. A (rule slot, shard) pair owns one row of
// STRIDE words, so each shard writes only its own rows and the supervisor sums rows when scraped.

import { CONNECT_ERROR_REASONS, type ConnectErrorReason, REJECT_REASONS, type RejectReason } from './errors.ts';

export const COUNTERS_VERSION = 1n;

/** Header words: version, shard count, slot capacity, stride. */
export const HEADER_WORDS = 4;

export const FIELD = {
  BYTES_IN: 0,
  BYTES_OUT: 1,
  ACTIVE: 2,
  TOTAL: 3,
  THROTTLED_NS_IN: 4,
  THROTTLED_NS_OUT: 5,
  PACKETS_IN: 6,
  PACKETS_OUT: 7,
  ACTIVE_FLOWS: 8,
  FLOWS_DROPPED: 9,
  CONNECT_ERRORS: 10, // + index in CONNECT_ERROR_REASONS (5 words)
  REJECTED: 16, // + index in REJECT_REASONS (up to 12 words)
  /** UDP datagrams dropped because the bandwidth budget had no room for them. */
  DATAGRAMS_DROPPED: 28,
  /** Bit i set: this shard counts target i as down (passive health or the active probe). */
  TARGETS_DOWN: 29,
  /** Connections that had to move past their first-choice target. */
  FAILOVERS: 30,
} as const;

if (REJECT_REASONS.length > FIELD.DATAGRAMS_DROPPED - FIELD.REJECTED) {
  throw new Error('counters layout: REJECT_REASONS outgrew its words');
}

export const STRIDE = 32;

export const DEFAULT_SLOT_CAPACITY = 4096;

export function connectErrorField(reason: ConnectErrorReason): number {
  return FIELD.CONNECT_ERRORS + CONNECT_ERROR_REASONS.indexOf(reason);
}

export function rejectField(reason: RejectReason): number {
  return FIELD.REJECTED + REJECT_REASONS.indexOf(reason);
}

export function countersByteLength(shardCount: number, slotCapacity: number): number {
  return (HEADER_WORDS + shardCount * slotCapacity * STRIDE) * BigInt64Array.BYTES_PER_ELEMENT;
}

/** Index of the first word of the row that `shard` owns for rule `slot`. */
export function rowIndex(shardCount: number, slot: number, shard: number): number {
  return HEADER_WORDS + (slot * shardCount + shard) * STRIDE;
}
