// Logs that the edge met its connection limit (max_connections): new connections waited for a
// place, in the kernel's backlog (native path) or held unread (node:net paths). The budget counts
// each time a listener met the limit; this reads that count once per interval, so a long stretch
// at the limit is one line per interval, never one per connection.

import type { ConnectionBudget } from './connection-budget.ts';
import type { LogFn } from './log-fn.ts';

/** How often the count is looked at, so at most one line this often. */
export const CONNECTION_LIMIT_LOG_INTERVAL_MS = 5_000;

/** Starts looking at the budget every interval; answers the function that stops it. */
export function logConnectionLimit(
  budget: ConnectionBudget,
  log: LogFn,
  intervalMs = CONNECTION_LIMIT_LOG_INTERVAL_MS,
): () => void {
  let logged = 0;
  const timer = setInterval(() => {
    const reached = budget.reached;
    if (reached === logged) return;
    log('warn', 'edge reached max_connections; new connections waited for a place', {
      max_connections: budget.limit,
      open: budget.open,
      times: reached - logged,
    });
    logged = reached;
  }, intervalMs);
  // A log line alone must not keep the process alive.
  timer.unref();
  return () => clearInterval(timer);
}
