// A rule's traffic as the API shows it: GET /v1/rules/:id/stats and each `event: stats` of
// GET /v1/stats/stream.

import { z } from 'zod';
import { timestampSchema } from './timestamps.ts';

const count = z.number().min(0);

export const ruleStatsSchema = z
  .object({
    rule: z.string().meta({ description: 'the rule id' }),
    at: timestampSchema.nullable().meta({
      description:
        'when the edge last reported the rule: its reports name a rule when its counts moved, and once more after they stopped; null (and all zeros) until a report mentions the rule',
    }),
    bytesIn: count.meta({ description: 'client to target, since the rule was created' }),
    bytesOut: count.meta({ description: 'target to client, since the rule was created' }),
    connectionsTotal: count,
    activeConnections: count,
    rejected: count,
    rejectedByReason: z.record(z.string(), count).meta({
      description:
        'rejected by reason (the edge metric sluice_rule_rejected_total{reason}), since the rule was created; reasons never seen are left out',
    }),
    connectErrors: count,
    bytesInPerSec: count.meta({ description: 'over the last stats interval in which the rule was reported' }),
    bytesOutPerSec: count.meta({
      description: 'over the last stats interval in which the rule was reported',
    }),
  })
  .meta({ id: 'RuleStats' });
export type RuleStats = z.infer<typeof ruleStatsSchema>;

export const statsStreamQuerySchema = z
  .object({ rule: z.string().min(1).optional().meta({ description: "only this rule's events" }) })
  .strict();
export type StatsStreamQuery = z.infer<typeof statsStreamQuerySchema>;
