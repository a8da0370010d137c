// Logs relays that had to wait for a pipe: a splice direction whose next bytes arrived while
// the process (or the system) was out of descriptors or memory retries on a timer instead of
// closing the connection, and counts each wait in the rule's PIPE_WAITS word. Many connections
// can wait at once, so the log is one line per rule per interval, read from the counters,
// never one per connection.

import { type Counters, FIELD } from '@sluice/counters';
import type { LogFn } from './log-fn.ts';
import type { RuleSlot } from './rule-reconciler.ts';

/** How often the counters are looked at, so at most one line per rule this often. */
export const PIPE_WAIT_LOG_INTERVAL_MS = 5_000;

export class PipeWaitLog {
  private readonly counters: Counters;
  private readonly rules: () => readonly RuleSlot[];
  private readonly log: LogFn;
  /** The total already logged, by rule name and slot (a slot reused starts from zero). */
  private readonly logged = new Map<string, bigint>();
  private timer: NodeJS.Timeout | null = null;

  constructor(counters: Counters, rules: () => readonly RuleSlot[], log: LogFn) {
    this.counters = counters;
    this.rules = rules;
    this.log = log;
  }

  start(intervalMs = PIPE_WAIT_LOG_INTERVAL_MS): void {
    this.timer = setInterval(() => this.check(), intervalMs);
    // A log line alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    const seen = new Map<string, bigint>();
    for (const rule of this.rules()) {
      if (rule.protocol !== 'tcp') continue;
      const key = `${rule.name}@${rule.slot}`;
      const total = this.counters.sum(rule.slot, FIELD.PIPE_WAITS);
      seen.set(key, total);
      const before = this.logged.get(key) ?? 0n;
      if (total > before) {
        this.log(
          'warn',
          'relays waited for a pipe (out of descriptors or memory); their bytes wait in the sockets',
          {
            rule: rule.name,
            waits: Number(total - before),
          },
        );
      }
    }
    this.logged.clear();
    for (const [key, total] of seen) this.logged.set(key, total);
  }
}
