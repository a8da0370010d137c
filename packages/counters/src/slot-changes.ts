// Which counter slots changed since a reader last looked, for readers that visit every slot
// every second (the managed edge's stats): the slot's rows are compared with a private copy as
// 32-bit halves, so an unchanged slot costs a compare of its words and no BigInt. A word written
// during the compare differs at the next call, so no change goes unseen for more than one call.

import type { Counters } from './counters.ts';
import { STRIDE } from './counters-layout.ts';

export class SlotChanges {
  private readonly counters: Counters;
  private readonly words: Uint32Array;
  private readonly seen: Uint32Array;

  constructor(counters: Counters) {
    this.counters = counters;
    const { words } = counters;
    this.words = new Uint32Array(words.buffer, words.byteOffset, words.length * 2);
    this.seen = new Uint32Array(this.words.length);
  }

  /** Whether any word of `slot`, on any shard, changed since the last call for it; remembers them. */
  moved(slot: number): boolean {
    let moved = false;
    for (let shard = 0; shard < this.counters.shardCount; shard++) {
      const from = this.counters.row(slot, shard) * 2;
      for (let i = from; i < from + STRIDE * 2; i++) {
        const word = this.words[i]!;
        if (word !== this.seen[i]) {
          this.seen[i] = word;
          moved = true;
        }
      }
    }
    return moved;
  }
}
