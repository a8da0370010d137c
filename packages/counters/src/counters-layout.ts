// The one layout of the counters SharedArrayBuffer, imported by the supervisor (reader), the
// shards (writers) and, through the offsets the shard passes to init(), the native splice addon
// (writer on the shard's thread; its C++ holds no offsets of its own).
// Every word is a BigInt64 updated with Atomics. A (rule slot, shard) pair owns one row of
// STRIDE words, so each shard writes only its own rows and the supervisor sums rows when scraped.

import {
  ACCEPT_ERROR_REASONS,
  type AcceptErrorReason,
  CONNECT_ERROR_REASONS,
  type ConnectErrorReason,
  REJECT_REASONS,
  RELAY_ERROR_REASONS,
  type RejectReason,
  type RelayErrorReason,
} from './counter-reasons.ts';

/** Bumped whenever a field moves: a buffer of another layout is refused (counters.ts). */
export const COUNTERS_VERSION = 3n;

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
  /** UDP datagrams the kernel dropped on the rule's sockets because their receive buffer was full. */
  RECEIVE_BUFFER_DROPS: 31,
  ACCEPT_ERRORS: 32, // + index in ACCEPT_ERROR_REASONS (up to 4 words)
  RELAY_ERRORS: 36, // + index in RELAY_ERROR_REASONS (up to 4 words)
  /** TCP urgent (MSG_OOB) bytes the splice relay stepped over; never part of the stream. */
  URGENT_BYTES: 40,
  /** Times a splice direction found no pipe (out of descriptors or memory) and waited to retry. */
  PIPE_WAITS: 41,
} as const;

export const STRIDE = 42;

/**
 * The words of a row the splice addon adds to, as its init() takes them (the shape of
 * SpliceCounterFields in packages/splice, which this leaf package does not import).
 */
export const SPLICE_COUNTER_FIELDS = {
  bytesIn: FIELD.BYTES_IN,
  bytesOut: FIELD.BYTES_OUT,
  throttledNsIn: FIELD.THROTTLED_NS_IN,
  throttledNsOut: FIELD.THROTTLED_NS_OUT,
  urgentBytes: FIELD.URGENT_BYTES,
  pipeWaits: FIELD.PIPE_WAITS,
} as const;

/** Where each per-reason block starts and how many words it has; checked below. */
const BLOCKS: readonly {
  readonly name: string;
  readonly at: number;
  readonly words: number;
  readonly reasons: number;
}[] = [
  {
    name: 'CONNECT_ERROR_REASONS',
    at: FIELD.CONNECT_ERRORS,
    words: 5,
    reasons: CONNECT_ERROR_REASONS.length,
  },
  { name: 'REJECT_REASONS', at: FIELD.REJECTED, words: 12, reasons: REJECT_REASONS.length },
  { name: 'ACCEPT_ERROR_REASONS', at: FIELD.ACCEPT_ERRORS, words: 4, reasons: ACCEPT_ERROR_REASONS.length },
  { name: 'RELAY_ERROR_REASONS', at: FIELD.RELAY_ERRORS, words: 4, reasons: RELAY_ERROR_REASONS.length },
];
for (const block of BLOCKS) {
  if (block.reasons > block.words) throw new Error(`counters layout: ${block.name} outgrew its words`);
}

export const DEFAULT_SLOT_CAPACITY = 4096;

export function connectErrorField(reason: ConnectErrorReason): number {
  return FIELD.CONNECT_ERRORS + CONNECT_ERROR_REASONS.indexOf(reason);
}

export function rejectField(reason: RejectReason): number {
  return FIELD.REJECTED + REJECT_REASONS.indexOf(reason);
}

/**
 * The words of a row the addon's UDP flow path adds to, as its udpListen() takes them (the
 * shape of UdpCounterFields in packages/splice).
 */
export const UDP_COUNTER_FIELDS = {
  packetsIn: FIELD.PACKETS_IN,
  packetsOut: FIELD.PACKETS_OUT,
  bytesIn: FIELD.BYTES_IN,
  bytesOut: FIELD.BYTES_OUT,
  datagramsDropped: FIELD.DATAGRAMS_DROPPED,
  quotaRejected: rejectField('quota_exhausted'),
  receiveBufferDrops: FIELD.RECEIVE_BUFFER_DROPS,
} as const;

export function acceptErrorField(reason: AcceptErrorReason): number {
  return FIELD.ACCEPT_ERRORS + ACCEPT_ERROR_REASONS.indexOf(reason);
}

export function relayErrorField(reason: RelayErrorReason): number {
  return FIELD.RELAY_ERRORS + RELAY_ERROR_REASONS.indexOf(reason);
}

export function countersByteLength(shardCount: number, slotCapacity: number): number {
  return (HEADER_WORDS + shardCount * slotCapacity * STRIDE) * BigInt64Array.BYTES_PER_ELEMENT;
}

/** Index of the first word of the row that `shard` owns for rule `slot`. */
export function rowIndex(shardCount: number, slot: number, shard: number): number {
  return HEADER_WORDS + (slot * shardCount + shard) * STRIDE;
}
