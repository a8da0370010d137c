// Jittered exponential backoff for reconnecting to the server. Attempt n waits a uniformly
// random time in [ceiling/2, ceiling], where ceiling = min(max, 2 x min x 2^n): the first retry
// after 0.5..1 s, then 1..2 s, 2..4 s, ... and at most 15..30 s. Half of every wait is random, so
// edges that lost the server together do not come back in step; no wait is below `minMs` or above
// `maxMs`.

export interface BackoffOptions {
  readonly minMs?: number;
  readonly maxMs?: number;
  /** A number in [0, 1): Math.random, or a fixed sequence in tests. */
  readonly random?: () => number;
}

export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 30_000;

export class Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.minMs = options.minMs ?? BACKOFF_MIN_MS;
    this.maxMs = options.maxMs ?? BACKOFF_MAX_MS;
    if (!(this.minMs > 0 && this.maxMs >= this.minMs)) {
      throw new RangeError(`backoff bounds ${this.minMs}..${this.maxMs} ms are not 0 < min <= max`);
    }
    this.random = options.random ?? Math.random;
  }

  /** The wait before the next attempt; each call without a reset() in between waits longer. */
  next(): number {
    const ceiling = this.ceiling(this.attempt);
    // Stop counting once at the cap, so the exponent never overflows.
    if (ceiling < this.maxMs) this.attempt++;
    return this.jitter(ceiling);
  }

  /** A wait at the cap (e.g. after the server refused us), without changing the sequence. */
  atMax(): number {
    return this.jitter(this.maxMs);
  }

  /** After a session that worked: the next failure starts from the shortest wait again. */
  reset(): void {
    this.attempt = 0;
  }

  private ceiling(attempt: number): number {
    return Math.min(this.maxMs, 2 * this.minMs * 2 ** attempt);
  }

  private jitter(ceiling: number): number {
    const drawn = this.random();
    const r = Number.isFinite(drawn) ? Math.min(Math.max(drawn, 0), 1) : 0.5;
    const wait = ceiling / 2 + r * (ceiling / 2);
    return Math.round(Math.min(this.maxMs, Math.max(this.minMs, wait)));
  }
}
