// The QoS state of every rule and owner, as one view over the shared buffer. The supervisor
// configures entities from the rules' and owners' `limits`; each shard admits connections and
// (on the JS path) charges bytes against it. Owner caps are checked before rule caps.

import type { LimitsSpec } from '@sluice/config';
import {
  DEFAULT_OWNER_CAPACITY,
  ownerEntity,
  ownerShardWord,
  ownerSlotOf,
  QOS_FIELD,
  QOS_STRIDE,
  QOS_VERSION,
  qosByteLength,
  RATE_SCALE,
  ruleEntity,
} from './qos-layout.ts';
import { quotaExhausted, refundQuota, takeQuota } from './quota-budget.ts';
import { charge, configure, isCapped, refund, take, tokens } from './token-bucket.ts';

/** Why a connection was refused at accept; the names of `sluice_rule_rejected_total{reason}`. */
export type QosRejectReason =
  | 'owner_max_connections'
  | 'owner_connection_rate'
  | 'rule_max_connections'
  | 'rule_connection_rate'
  /** UDP only: the rule's flow table is full (max_flows), counted apart from the caps. */
  | 'rule_max_flows'
  /** The owner's monthly quota on this edge is spent (quota-budget.ts). */
  | 'quota_exhausted';

/** QOS_FIELD.BANDWIDTH_IN or QOS_FIELD.BANDWIDTH_OUT. */
export type BandwidthField = typeof QOS_FIELD.BANDWIDTH_IN | typeof QOS_FIELD.BANDWIDTH_OUT;

/** No caps at all: what an owner without an `[owners.NAME]` table gets. */
export const NO_LIMITS: LimitsSpec = Object.freeze({
  bandwidthIn: null,
  bandwidthOut: null,
  newConnectionsPerSec: null,
  newConnectionsBurst: null,
  maxConnections: null,
});

/** The process-wide monotonic clock in ns: the same clock as the splice addon's uv_hrtime(). */
export const monotonicNs = (): bigint => process.hrtime.bigint();

export class QosTable {
  readonly words: BigInt64Array;
  readonly ruleCapacity: number;
  readonly ownerCapacity: number;
  readonly shardCount: number;
  /** The shard this view admits for (null: the supervisor's view, which admits nothing). */
  private readonly shard: number | null;

  constructor(buffer: SharedArrayBuffer, shard: number | null = null) {
    this.words = new BigInt64Array(buffer);
    if (this.words[0] !== QOS_VERSION || this.words[3] !== BigInt(QOS_STRIDE)) {
      throw new Error(
        `QoS buffer has layout ${this.words[0]}/${this.words[3]}, expected ${QOS_VERSION}/${QOS_STRIDE}`,
      );
    }
    this.ruleCapacity = Number(this.words[1]);
    this.ownerCapacity = Number(this.words[2]);
    this.shardCount = Number(this.words[4]);
    if (shard !== null && (shard < 0 || shard >= this.shardCount)) {
      throw new RangeError(`shard ${shard} outside 0..${this.shardCount - 1}`);
    }
    this.shard = shard;
  }

  static allocate(
    ruleCapacity: number,
    ownerCapacity = DEFAULT_OWNER_CAPACITY,
    shardCount = 1,
  ): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(qosByteLength(ruleCapacity, ownerCapacity, shardCount));
    const words = new BigInt64Array(buffer);
    words[0] = QOS_VERSION;
    words[1] = BigInt(ruleCapacity);
    words[2] = BigInt(ownerCapacity);
    words[3] = BigInt(QOS_STRIDE);
    words[4] = BigInt(shardCount);
    return buffer;
  }

  get buffer(): SharedArrayBuffer {
    return this.words.buffer as SharedArrayBuffer;
  }

  /** The entity (first word) of a rule slot. */
  rule(slot: number): number {
    if (slot < 0 || slot >= this.ruleCapacity)
      throw new RangeError(`rule slot ${slot} outside 0..${this.ruleCapacity - 1}`);
    return ruleEntity(slot);
  }

  /** The entity (first word) of an owner slot. */
  owner(slot: number): number {
    if (slot < 0 || slot >= this.ownerCapacity)
      throw new RangeError(`owner slot ${slot} outside 0..${this.ownerCapacity - 1}`);
    return ownerEntity(this.ruleCapacity, slot);
  }

  /** Zeroes an entity before a new rule takes its slot; nothing else uses it at that point. */
  reset(entity: number): void {
    for (let i = 0; i < QOS_STRIDE; i++) Atomics.store(this.words, entity + i, 0n);
  }

  /**
   * Applies `limits`, live: buckets keep the tokens they hold (clamped to the new burst), and a
   * lower max_connections closes nothing that is open, it only refuses new connections.
   */
  configure(entity: number, limits: LimitsSpec, now: bigint = monotonicNs()): void {
    const bandwidth = (field: number, spec: LimitsSpec['bandwidthIn']) =>
      configure(
        this.words,
        entity + field,
        now,
        spec === null ? 0n : BigInt(spec.bytesPerSec) * BigInt(RATE_SCALE),
        spec === null ? 0n : BigInt(spec.burstBytes),
      );
    bandwidth(QOS_FIELD.BANDWIDTH_IN, limits.bandwidthIn);
    bandwidth(QOS_FIELD.BANDWIDTH_OUT, limits.bandwidthOut);
    const rate = limits.newConnectionsPerSec;
    configure(
      this.words,
      entity + QOS_FIELD.CONNECTION_RATE,
      now,
      rate === null ? 0n : BigInt(Math.max(1, Math.round(rate * RATE_SCALE))),
      BigInt(limits.newConnectionsBurst ?? 0),
    );
    Atomics.store(this.words, entity + QOS_FIELD.MAX_ACTIVE, BigInt(limits.maxConnections ?? 0));
  }

  /**
   * Admits one new connection against the owner's caps, then the rule's: concurrency first, then
   * the connection rate. On a refusal nothing stays taken. On admission the caller owes one
   * release(owner, rule) when the connection ends.
   */
  admit(owner: number, rule: number, now: bigint = monotonicNs(), maxFlows = 0): QosRejectReason | null {
    // Look before taking: a connection the rule will refuse must not hold one of the owner's
    // places even for an instant, or a connection of another rule of the owner could be refused
    // for it. Only a race between these looks and the takes below can still do that.
    if (quotaExhausted(this.words, owner)) return 'quota_exhausted';
    if (this.full(owner)) return 'owner_max_connections';
    if (this.rateSpent(owner, now)) return 'owner_connection_rate';
    if (this.full(rule)) return 'rule_max_connections';
    if (maxFlows > 0 && this.active(rule) >= maxFlows) return 'rule_max_flows';
    if (this.rateSpent(rule, now)) return 'rule_connection_rate';
    if (this.acquire(owner) !== null) return 'owner_max_connections';
    if (take(this.words, owner + QOS_FIELD.CONNECTION_RATE, now, 1n) !== 0n) {
      this.releaseOne(owner);
      return 'owner_connection_rate';
    }
    const ruleRefusal = this.acquire(rule, BigInt(maxFlows));
    if (ruleRefusal !== null) {
      this.releaseOne(owner);
      refund(this.words, owner + QOS_FIELD.CONNECTION_RATE, 1n, 0n);
      return ruleRefusal;
    }
    if (take(this.words, rule + QOS_FIELD.CONNECTION_RATE, now, 1n) !== 0n) {
      this.releaseOne(rule);
      this.releaseOne(owner);
      refund(this.words, owner + QOS_FIELD.CONNECTION_RATE, 1n, 0n);
      return 'rule_connection_rate';
    }
    this.countForShard(owner, 1n);
    return null;
  }

  release(owner: number, rule: number): void {
    this.releaseOne(rule);
    this.releaseOne(owner);
    this.countForShard(owner, -1n);
  }

  /**
   * A shard died and its connections with it: takes what it held off every owner's count
   * (rule counts come from the shard's counter rows; see the supervisor).
   */
  forgetShard(shard: number): void {
    for (let owner = 0; owner < this.ownerCapacity; owner++) {
      const word = ownerShardWord(this.ruleCapacity, this.ownerCapacity, this.shardCount, owner, shard);
      const held = Atomics.exchange(this.words, word, 0n);
      if (held !== 0n) Atomics.sub(this.words, this.owner(owner) + QOS_FIELD.ACTIVE, held);
    }
  }

  private countForShard(owner: number, delta: bigint): void {
    if (this.shard === null) return;
    const slot = ownerSlotOf(this.ruleCapacity, owner);
    Atomics.add(
      this.words,
      ownerShardWord(this.ruleCapacity, this.ownerCapacity, this.shardCount, slot, this.shard),
      delta,
    );
  }

  /** Connections open now against this entity, over every shard. */
  active(entity: number): number {
    return Number(Atomics.load(this.words, entity + QOS_FIELD.ACTIVE));
  }

  /** A dead shard's connections died with it: takes them off the count. */
  forget(entity: number, connections: number): void {
    if (connections > 0) Atomics.sub(this.words, entity + QOS_FIELD.ACTIVE, BigInt(connections));
  }

  /**
   * UDP: takes `bytes` from both buckets of a direction, all or nothing. 'bandwidth' means the
   * datagram is over a cap's budget, 'quota' over the owner's monthly quota; either way it is
   * dropped (UDP has no backpressure to apply). null: it may go.
   */
  takeDatagram(
    owner: number,
    rule: number,
    field: BandwidthField,
    bytes: number,
    now: bigint = monotonicNs(),
  ): 'bandwidth' | 'quota' | null {
    const n = BigInt(bytes);
    if (take(this.words, owner + field, now, n) !== 0n) return 'bandwidth';
    if (take(this.words, rule + field, now, n) !== 0n) {
      refund(this.words, owner + field, n, 0n);
      return 'bandwidth';
    }
    const granted = takeQuota(this.words, owner, n);
    if (granted < n) {
      refundQuota(this.words, owner, granted, 0n);
      refund(this.words, owner + field, n, 0n);
      refund(this.words, rule + field, n, 0n);
      return 'quota';
    }
    return null;
  }

  /**
   * Takes up to `bytes` from the owner's monthly quota; answers how many may be moved (all
   * when the owner has no quota here). The JS relay moves that many and cuts the rest.
   */
  takeQuota(owner: number, bytes: number): number {
    return Number(takeQuota(this.words, owner, BigInt(bytes)));
  }

  /** Gives back bytes takeQuota granted that were not moved. */
  refundQuota(owner: number, bytes: number): void {
    refundQuota(this.words, owner, BigInt(bytes), 0n);
  }

  /** Whether the owner's quota on this edge is spent. */
  quotaExhausted(owner: number): boolean {
    return quotaExhausted(this.words, owner);
  }

  /** Whether bytes in this direction pay tokens at all (an uncapped pair skips the clock). */
  bandwidthCapped(owner: number, rule: number, field: BandwidthField): boolean {
    return isCapped(this.words, owner + field) || isCapped(this.words, rule + field);
  }

  /**
   * Charges `bytes` already read to both buckets of a direction; returns how long (ns) to hold
   * them before writing so that neither cap is exceeded (0n: write now).
   */
  chargeBytes(
    owner: number,
    rule: number,
    field: BandwidthField,
    bytes: number,
    now: bigint = monotonicNs(),
  ): bigint {
    const n = BigInt(bytes);
    const ownerWait = charge(this.words, owner + field, now, n);
    const ruleWait = charge(this.words, rule + field, now, n);
    // biome-ignore lint/complexity/useMathMinMax: Math.max does not take bigints
    return ownerWait > ruleWait ? ownerWait : ruleWait;
  }

  private full(entity: number): boolean {
    const max = Atomics.load(this.words, entity + QOS_FIELD.MAX_ACTIVE);
    return max !== 0n && Atomics.load(this.words, entity + QOS_FIELD.ACTIVE) >= max;
  }

  private rateSpent(entity: number, now: bigint): boolean {
    const at = entity + QOS_FIELD.CONNECTION_RATE;
    return isCapped(this.words, at) && tokens(this.words, at, now) < 1n;
  }

  /** Takes one place under max_connections and, for UDP, under max_flows; null when taken. */
  private acquire(entity: number, maxFlows = 0n): 'rule_max_connections' | 'rule_max_flows' | null {
    const max = Atomics.load(this.words, entity + QOS_FIELD.MAX_ACTIVE);
    if (max === 0n && maxFlows === 0n) {
      Atomics.add(this.words, entity + QOS_FIELD.ACTIVE, 1n);
      return null;
    }
    for (;;) {
      const open = Atomics.load(this.words, entity + QOS_FIELD.ACTIVE);
      if (max !== 0n && open >= max) return 'rule_max_connections';
      if (maxFlows !== 0n && open >= maxFlows) return 'rule_max_flows';
      if (Atomics.compareExchange(this.words, entity + QOS_FIELD.ACTIVE, open, open + 1n) === open)
        return null;
    }
  }

  private releaseOne(entity: number): void {
    Atomics.sub(this.words, entity + QOS_FIELD.ACTIVE, 1n);
  }
}
