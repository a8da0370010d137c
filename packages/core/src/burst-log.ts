// Logs the first of a burst of like events at once and the rest as one summary line: an accept
// loop out of descriptors, or a run of relay errors, must be seen without flooding the log
// (each shard line is a message to the supervisor).

import type { LogFn } from './log-fn.ts';

/** How long a burst lasts: like events within this long of its first line are summed. */
const BURST_WINDOW_MS = 10_000;

interface Burst {
  repeated: number;
  readonly timer: NodeJS.Timeout;
}

export class BurstLog {
  private readonly log: LogFn;
  private readonly windowMs: number;
  private readonly bursts = new Map<string, Burst>();

  constructor(log: LogFn, windowMs = BURST_WINDOW_MS) {
    this.log = log;
    this.windowMs = windowMs;
  }

  /**
   * Logs `msg` now unless a burst of `key` is open; then it only counts. When the window closes,
   * a burst that counted more logs once more with `repeated`: how many were not logged.
   */
  note(key: string, level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    const open = this.bursts.get(key);
    if (open !== undefined) {
      open.repeated++;
      return;
    }
    this.log(level, msg, fields);
    const timer = setTimeout(() => {
      this.bursts.delete(key);
      if (burst.repeated > 0) this.log(level, msg, { ...fields, repeated: burst.repeated });
    }, this.windowMs);
    // A summary line alone must not keep a shard alive.
    timer.unref();
    const burst: Burst = { repeated: 0, timer };
    this.bursts.set(key, burst);
  }

  /** Drops open bursts without their summaries (the rule is gone). */
  stop(): void {
    for (const burst of this.bursts.values()) clearTimeout(burst.timer);
    this.bursts.clear();
  }
}
