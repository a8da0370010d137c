// Failed logins per (user name, client address): after 5 failures within 15 minutes, logins from
// that address for that name are refused for a lockout that starts at 1 minute and doubles with
// each further failure, up to 15 minutes. Kept in memory: a restart forgives, which costs an
// attacker a restart of the server they cannot cause.

const WINDOW_MS = 15 * 60_000;
const FREE_FAILURES = 5;
const FIRST_LOCKOUT_MS = 60_000;
const MAX_LOCKOUT_MS = 15 * 60_000;

interface Failures {
  /** Times of the failures within the window. */
  times: number[];
  lockedUntil: number;
  lockoutMs: number;
}

export class LoginThrottle {
  private readonly now: () => number;
  private readonly failures = new Map<string, Failures>();

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Milliseconds until a login may be tried again for this pair; 0 when it may now. */
  retryAfterMs(user: string, address: string): number {
    const entry = this.failures.get(key(user, address));
    return entry === undefined ? 0 : Math.max(0, entry.lockedUntil - this.now());
  }

  failed(user: string, address: string): void {
    const now = this.now();
    const k = key(user, address);
    const entry = this.failures.get(k) ?? { times: [], lockedUntil: 0, lockoutMs: 0 };
    entry.times = entry.times.filter((at) => now - at < WINDOW_MS);
    entry.times.push(now);
    if (entry.times.length >= FREE_FAILURES) {
      entry.lockoutMs =
        entry.lockoutMs === 0 ? FIRST_LOCKOUT_MS : Math.min(entry.lockoutMs * 2, MAX_LOCKOUT_MS);
      entry.lockedUntil = now + entry.lockoutMs;
    }
    this.failures.set(k, entry);
  }

  succeeded(user: string, address: string): void {
    this.failures.delete(key(user, address));
  }
}

function key(user: string, address: string): string {
  return `${user.toLowerCase()}\n${address}`;
}
