import { COUNTERS_VERSION, countersByteLength, FIELD, rowIndex, STRIDE } from './counters-layout.ts';

/** A view over the counters buffer; validates the header so both sides agree on the layout. */
export class Counters {
  readonly words: BigInt64Array;
  readonly shardCount: number;
  readonly slotCapacity: number;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new BigInt64Array(buffer);
    if (this.words[0] !== COUNTERS_VERSION || this.words[3] !== BigInt(STRIDE)) {
      throw new Error(
        `counters buffer has layout ${this.words[0]}/${this.words[3]}, expected ${COUNTERS_VERSION}/${STRIDE}`,
      );
    }
    this.shardCount = Number(this.words[1]);
    this.slotCapacity = Number(this.words[2]);
  }

  static allocate(shardCount: number, slotCapacity: number): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(countersByteLength(shardCount, slotCapacity));
    const words = new BigInt64Array(buffer);
    words[0] = COUNTERS_VERSION;
    words[1] = BigInt(shardCount);
    words[2] = BigInt(slotCapacity);
    words[3] = BigInt(STRIDE);
    return buffer;
  }

  row(slot: number, shard: number): number {
    return rowIndex(this.shardCount, slot, shard);
  }

  add(row: number, field: number, n: number): void {
    Atomics.add(this.words, row + field, BigInt(n));
  }

  /** For words one shard owns outright (its target-health bits), not for sums. */
  store(row: number, field: number, value: bigint): void {
    Atomics.store(this.words, row + field, value);
  }

  read(row: number, field: number): bigint {
    return Atomics.load(this.words, row + field);
  }

  /** Sum of one field over every shard's row of a slot. */
  sum(slot: number, field: number): bigint {
    let total = 0n;
    for (let shard = 0; shard < this.shardCount; shard++) total += this.read(this.row(slot, shard), field);
    return total;
  }

  /** Zeroes a slot before it is given to a new rule; no shard writes it at that point. */
  clearSlot(slot: number): void {
    for (let shard = 0; shard < this.shardCount; shard++) {
      const row = this.row(slot, shard);
      for (let field = 0; field < STRIDE; field++) Atomics.store(this.words, row + field, 0n);
    }
  }

  /** A dead shard's connections died with it; its gauges must not keep counting them. */
  clearShardGauges(shard: number): void {
    for (let slot = 0; slot < this.slotCapacity; slot++) {
      const row = this.row(slot, shard);
      Atomics.store(this.words, row + FIELD.ACTIVE, 0n);
      Atomics.store(this.words, row + FIELD.ACTIVE_FLOWS, 0n);
    }
  }
}
