// Failed attempts per key (a user name and client address for logins; a client address for edge
// hellos and enrollments): after `freeFailures` within the window, attempts for that key are
// refused for a lockout that starts at `firstLockoutMs` and doubles with each further failure, up
// to `maxLockoutMs`. Kept in memory: a restart forgives, which costs an attacker a restart of the
// server they cannot cause. Keys whose failures have all left the window and whose lockout is
// over are dropped, so a stream of one-off failures cannot grow it without bound.

export interface ThrottlePolicy {
  readonly windowMs: number;
  readonly freeFailures: number;
  readonly firstLockoutMs: number;
  readonly maxLockoutMs: number;
}

/** API logins: per user name and address, 5 failures in 15 minutes, then 1 minute doubling to 15. */
export const LOGIN_POLICY: ThrottlePolicy = {
  windowMs: 15 * 60_000,
  freeFailures: 5,
  firstLockoutMs: 60_000,
  maxLockoutMs: 15 * 60_000,
};

// A NATed site may hold many edges, and an edge with a stale bundle retries at the longest
// backoff (30 s): 20 failures in 15 minutes leaves such a site room, and a guesser 20 tries.
/** Edge hellos and enrollments: per address, 20 failures in 15 minutes, then 1 minute doubling to 15. */
export const CONTROL_POLICY: ThrottlePolicy = {
  windowMs: 15 * 60_000,
  freeFailures: 20,
  firstLockoutMs: 60_000,
  maxLockoutMs: 15 * 60_000,
};

/** How many keys may be added between sweeps of the expired ones. */
const SWEEP_EVERY = 1024;

interface Failures {
  /** Times of the failures within the window. */
  times: number[];
  lockedUntil: number;
  lockoutMs: number;
}

export class FailureThrottle {
  private readonly policy: ThrottlePolicy;
  private readonly now: () => number;
  private readonly failures = new Map<string, Failures>();
  private addedSinceSweep = 0;

  constructor(policy: ThrottlePolicy, now: () => number = Date.now) {
    this.policy = policy;
    this.now = now;
  }

  /** Keys held now (for tests of the sweep). */
  get size(): number {
    return this.failures.size;
  }

  /** Milliseconds until `key` may be tried again; 0 when it may now. */
  retryAfterMs(key: string): number {
    const entry = this.failures.get(key);
    return entry === undefined ? 0 : Math.max(0, entry.lockedUntil - this.now());
  }

  failed(key: string): void {
    const now = this.now();
    let entry = this.failures.get(key);
    if (entry === undefined) {
      if (++this.addedSinceSweep >= SWEEP_EVERY) this.sweep(now);
      entry = { times: [], lockedUntil: 0, lockoutMs: 0 };
      this.failures.set(key, entry);
    }
    entry.times = entry.times.filter((at) => now - at < this.policy.windowMs);
    entry.times.push(now);
    if (entry.times.length >= this.policy.freeFailures) {
      entry.lockoutMs =
        entry.lockoutMs === 0
          ? this.policy.firstLockoutMs
          : Math.min(entry.lockoutMs * 2, this.policy.maxLockoutMs);
      entry.lockedUntil = now + entry.lockoutMs;
    }
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }

  private sweep(now: number): void {
    this.addedSinceSweep = 0;
    for (const [key, entry] of this.failures) {
      const last = entry.times[entry.times.length - 1] ?? 0;
      if (now - last >= this.policy.windowMs && entry.lockedUntil <= now) this.failures.delete(key);
    }
  }
}

/** The key of a login attempt: the user name (any case) from one address. */
export function loginKey(user: string, address: string): string {
  return `${user.toLowerCase()}\n${address}`;
}
