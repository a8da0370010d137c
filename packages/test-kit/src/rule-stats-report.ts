// An edge's stats report for one rule, as the control protocol carries it.

import type { RuleStats } from '@sluice/protocol';

/** A report of `ruleId` with every counter at 0 but the ones `fields` gives. */
export function ruleStatsReport(ruleId: string, fields: Partial<Omit<RuleStats, 'ruleId'>> = {}): RuleStats {
  return {
    ruleId,
    bytesIn: 0,
    bytesOut: 0,
    connectionsTotal: 0,
    activeConnections: 0,
    rejected: 0,
    connectErrors: 0,
    ...fields,
  };
}
