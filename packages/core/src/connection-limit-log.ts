// Logs that the edge met its connection limit (max_connections): new connections waited for a
// place, in the kernel's backlog (native path) or held unread (node:net paths). The budget counts
// each time a listener met the limit; this reads that count once per interval, so a long stretch
// at the limit is one line per interval, never one per connection.

import type { ConnectionBudget } from './connection-budget.ts';
import type { LogFn } from './log-fn.ts';

/** How often the count is looked at, so at most one line this often. */
export const CONNECTION_LIMIT_LOG_INTERVAL_MS = 5_000;

export class ConnectionLimitLog {
  private readonly budget: ConnectionBudget;
  private readonly log: LogFn;
  private logged = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(budget: ConnectionBudget, log: LogFn) {
    this.budget = budget;
    this.log = log;
  }

  start(intervalMs = CONNECTION_LIMIT_LOG_INTERVAL_MS): void {
    this.timer = setInterval(() => this.check(), intervalMs);
    // A log line alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    const reached = this.budget.reached;
    if (reached === this.logged) return;
    this.log('warn', 'edge reached max_connections; new connections waited for a place', {
      max_connections: this.budget.limit,
      open: this.budget.open,
      times: reached - this.logged,
    });
    this.logged = reached;
  }
}
