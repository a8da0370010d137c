// The edge's connection budget (`max_connections`): how many TCP connections the edge holds at
// once over every shard, and the limit. One Int32Array over a SharedArrayBuffer that the
// supervisor and every shard map, and that the splice addon's accept loop reads and adds to with
// atomics (AcceptBudgetOffsets): this module is the layout both sides use.
//
// A connection takes a place before it is accepted (native path) or as node:net hands it over
// (node:net paths), and gives it back when it ends. Each shard's own count sits beside the total,
// so the supervisor can forget what a shard that died held.

import type { AcceptBudgetOffsets } from '@sluice/splice';

/** Bumped when the words below change meaning. */
export const BUDGET_LAYOUT_VERSION = 1;

export const BUDGET_WORD = {
  VERSION: 0,
  /** The most connections the edge holds (0: no limit). */
  LIMIT: 1,
  /** Connections held now, over every shard. */
  OPEN: 2,
  /**
   * Times a listener found the edge at its limit (the native path: once per pause, however long;
   * node:net paths: once per connection held). The supervisor logs when it moves.
   */
  REACHED: 3,
  /**
   * node:net paths: the most connections one shard holds unread while they wait for a place
   * (each costs a descriptor); one more is reset and counted instead.
   */
  WAITING_LIMIT: 4,
  /** Connections shard i holds: word SHARD_OPEN + i. */
  SHARD_OPEN: 5,
} as const;

export class ConnectionBudget {
  readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    const version = Atomics.load(this.words, BUDGET_WORD.VERSION);
    if (version !== BUDGET_LAYOUT_VERSION) {
      throw new Error(`connection budget layout ${version}, expected ${BUDGET_LAYOUT_VERSION}`);
    }
  }

  static allocate(shards: number): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer((BUDGET_WORD.SHARD_OPEN + shards) * Int32Array.BYTES_PER_ELEMENT);
    Atomics.store(new Int32Array(buffer), BUDGET_WORD.VERSION, BUDGET_LAYOUT_VERSION);
    return buffer;
  }

  /** The most connections the edge holds at once; 0: no limit. A change applies to the next accept. */
  get limit(): number {
    return Atomics.load(this.words, BUDGET_WORD.LIMIT);
  }

  set limit(connections: number) {
    Atomics.store(this.words, BUDGET_WORD.LIMIT, connections);
  }

  /** The most connections one shard holds waiting for a place (node:net paths). */
  get waitingLimit(): number {
    return Atomics.load(this.words, BUDGET_WORD.WAITING_LIMIT);
  }

  set waitingLimit(connections: number) {
    Atomics.store(this.words, BUDGET_WORD.WAITING_LIMIT, connections);
  }

  /** Connections the edge holds now. */
  get open(): number {
    return Atomics.load(this.words, BUDGET_WORD.OPEN);
  }

  /** How often the limit was met so far (REACHED). */
  get reached(): number {
    return Atomics.load(this.words, BUDGET_WORD.REACHED);
  }

  /** Takes a place for one connection on `shard`: false when the edge holds its limit. */
  take(shard: number): boolean {
    const limit = this.limit;
    const before = Atomics.add(this.words, BUDGET_WORD.OPEN, 1);
    if (limit > 0 && before >= limit) {
      Atomics.sub(this.words, BUDGET_WORD.OPEN, 1);
      Atomics.add(this.words, BUDGET_WORD.REACHED, 1);
      return false;
    }
    Atomics.add(this.words, BUDGET_WORD.SHARD_OPEN + shard, 1);
    return true;
  }

  /** Gives back the place of a connection on `shard` that ended. */
  give(shard: number): void {
    Atomics.sub(this.words, BUDGET_WORD.SHARD_OPEN + shard, 1);
    Atomics.sub(this.words, BUDGET_WORD.OPEN, 1);
  }

  /** A shard died with its connections: the places they held are free again. */
  forgetShard(shard: number): void {
    const held = Atomics.exchange(this.words, BUDGET_WORD.SHARD_OPEN + shard, 0);
    Atomics.sub(this.words, BUDGET_WORD.OPEN, held);
  }

  /** Where the addon finds the words, for the listeners of `shard`. */
  offsets(shard: number): AcceptBudgetOffsets {
    return {
      limit: BUDGET_WORD.LIMIT,
      open: BUDGET_WORD.OPEN,
      reached: BUDGET_WORD.REACHED,
      mine: BUDGET_WORD.SHARD_OPEN + shard,
    };
  }
}
