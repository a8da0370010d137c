// The one layout of the QoS SharedArrayBuffer, read and written by every shard (JS) and by the
// splice addon on each shard's thread (C++, which receives these offsets at init rather than
// repeating them). Every word is a BigInt64 updated with Atomics.
//
// One entity per rule slot (the same slot numbers as the counters buffer), then one per owner.
// An entity holds three token buckets and a concurrency count:
//   bucket: RATE (units per 1000 s, so fractional connection rates stay integers; 0 = no cap),
//           LIMIT_NS (the burst, as the time the rate takes to earn it),
//           TAT_NS (GCRA's theoretical arrival time on the process-wide monotonic clock).
// A single TAT word per bucket is what makes the bucket lock-free: a take is one
// compare-and-swap, so an owner's cap holds across all of its rules on all shards at once.
//
// An owner entity also holds the owner's monthly quota on this edge as a budget of bytes left
// (quota-budget.ts): the server sets it, and every relay path takes from it before it moves bytes.
//
// After the entities, one word per (owner, shard): the connections that shard holds open under
// that owner. A rule may change owner while its connections stay with the owner they were
// admitted under, so when a shard dies only these words say what to take off each owner.

export const QOS_VERSION = 1n;

/** Header words: version, rule capacity, owner capacity, stride, shard count (3 spare). */
export const QOS_HEADER_WORDS = 8;

export const BUCKET = {
  RATE: 0,
  LIMIT_NS: 1,
  TAT_NS: 2,
} as const;

export const QOS_FIELD = {
  /** Bytes client -> upstream. */
  BANDWIDTH_IN: 0,
  /** Bytes upstream -> client. */
  BANDWIDTH_OUT: 3,
  /** New connections. */
  CONNECTION_RATE: 6,
  /** Connections (UDP: flows) open now, across every shard. */
  ACTIVE: 9,
  /** 0 = no cap. */
  MAX_ACTIVE: 10,
  /** Owner entities only: 1 = a monthly quota applies on this edge (quota-budget.ts). */
  QUOTA_CAPPED: 11,
  /** Owner entities only: bytes (in + out) the owner may still move; never below 0. */
  QUOTA_LEFT: 12,
} as const;

/** Two cache lines per entity; words 13..15 are spare. */
export const QOS_STRIDE = 16;

export const DEFAULT_OWNER_CAPACITY = 1024;

/** Rates are stored per 1000 s: bytes/s x 1000, connections/s x 1000. */
export const RATE_SCALE = 1000;

/** Nanoseconds in 1000 s: the numerator that turns a stored rate into a cost in ns. */
export const NS_PER_RATE_UNIT = 1_000_000_000_000n;

export function qosByteLength(ruleCapacity: number, ownerCapacity: number, shardCount: number): number {
  const words = QOS_HEADER_WORDS + (ruleCapacity + ownerCapacity) * QOS_STRIDE + ownerCapacity * shardCount;
  return words * BigInt64Array.BYTES_PER_ELEMENT;
}

/** First word of the entity of rule slot `slot`. */
export function ruleEntity(slot: number): number {
  return QOS_HEADER_WORDS + slot * QOS_STRIDE;
}

/** First word of the entity of owner slot `owner` (owners follow the rule slots). */
export function ownerEntity(ruleCapacity: number, owner: number): number {
  return QOS_HEADER_WORDS + (ruleCapacity + owner) * QOS_STRIDE;
}

/** The owner slot of an owner entity (the inverse of ownerEntity). */
export function ownerSlotOf(ruleCapacity: number, entity: number): number {
  return (entity - QOS_HEADER_WORDS) / QOS_STRIDE - ruleCapacity;
}

/** The word counting what shard `shard` holds open under owner slot `owner`. */
export function ownerShardWord(
  ruleCapacity: number,
  ownerCapacity: number,
  shardCount: number,
  owner: number,
  shard: number,
): number {
  return QOS_HEADER_WORDS + (ruleCapacity + ownerCapacity) * QOS_STRIDE + owner * shardCount + shard;
}
