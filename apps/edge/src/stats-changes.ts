// Which rules a stats report carries: those whose counters moved since the edge last reported
// them, once more after they stop (the server's rates over the last interval then fall to 0),
// and every rule the first time. The server keeps cumulative counters per rule, so a rule left
// out has not changed there; an edge holding 10,000 quiet rules sends, and the server folds,
// only the few that moved instead of all of them every interval.

import type { RuleStats } from '@sluice/protocol';

interface Reported {
  /** The counters as last reported. */
  readonly key: string;
  /** The last report already repeated the one before: nothing to send until they move. */
  readonly settled: boolean;
}

export class StatsChanges {
  private readonly reported = new Map<string, Reported>();

  /**
   * A new session: the last reports may not have reached the server (a session that ended with
   * them in flight), so every rule is reported once again.
   */
  reset(): void {
    this.reported.clear();
  }

  /** The rules of `current` to report now; remembers them as reported. */
  select(current: readonly RuleStats[]): RuleStats[] {
    const out: RuleStats[] = [];
    const seen = new Set<string>();
    for (const stats of current) {
      seen.add(stats.ruleId);
      const key = JSON.stringify(stats);
      const before = this.reported.get(stats.ruleId);
      if (before !== undefined && before.key === key && before.settled) continue;
      out.push(stats);
      this.reported.set(stats.ruleId, { key, settled: before?.key === key });
    }
    // A rule the edge no longer holds is forgotten: if it comes back, it is reported again.
    if (seen.size < this.reported.size) {
      for (const id of this.reported.keys()) if (!seen.has(id)) this.reported.delete(id);
    }
    return out;
  }
}
