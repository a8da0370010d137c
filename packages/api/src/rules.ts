// /v1/rules: a rule as the API shows it, and the bodies that push, update and list rules. The
// rule table itself is the standalone config's `[[rules]]` (docs/config.md); the server
// validates it with that schema, so here it is an object.

import { z } from 'zod';
import { edgeRefSchema } from './edges.ts';
import { timestampSchema } from './timestamps.ts';

export const RULE_STATES = ['pending', 'active', 'failed', 'removed'] as const;
export const ruleStateSchema = z.enum(RULE_STATES);
export type RuleState = z.infer<typeof ruleStateSchema>;

const ownerSchema = z.string().min(1).max(64);

/** A rule table in the standalone config's keys (`name`, `listen`, `targets`, ...). */
export const ruleTableSchema = z.record(z.string(), z.unknown()).meta({
  id: 'RuleTable',
  description: 'a [[rules]] table of the standalone config, as JSON (docs/config.md)',
});
export type RuleTable = z.infer<typeof ruleTableSchema>;

/** `:id` in a path. */
export const ruleParamsSchema = z.object({ id: z.string().min(1).meta({ description: 'a rule id' }) });
export type RuleParams = z.infer<typeof ruleParamsSchema>;

export const ruleSchema = z
  .object({
    id: z.string(),
    edge: edgeRefSchema,
    owner: z.string(),
    name: z.string(),
    revision: z.int().min(1),
    state: ruleStateSchema,
    reason: z.string().nullable().meta({ description: 'failed: the reason code the edge gave' }),
    message: z.string().nullable(),
    rule: ruleTableSchema,
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
  })
  .meta({ id: 'Rule' });
export type Rule = z.infer<typeof ruleSchema>;

export const ruleListSchema = z.object({ rules: z.array(ruleSchema) }).meta({ id: 'RuleList' });
export type RuleList = z.infer<typeof ruleListSchema>;

export const pushRuleBodySchema = z
  .object({
    edge: z.string().min(1).meta({ description: 'an edge id or name' }),
    rule: ruleTableSchema,
    owner: ownerSchema.optional().meta({ description: "admins only; default: the token's user" }),
  })
  .strict()
  .meta({ id: 'PushRule' });
export type PushRuleBody = z.infer<typeof pushRuleBodySchema>;

export const updateRuleBodySchema = z.object({ rule: ruleTableSchema }).strict().meta({ id: 'UpdateRule' });
export type UpdateRuleBody = z.infer<typeof updateRuleBodySchema>;

export const listRulesQuerySchema = z
  .object({
    edge: z.string().min(1).optional().meta({ description: 'only the rules of this edge (id or name)' }),
  })
  .strict();
export type ListRulesQuery = z.infer<typeof listRulesQuerySchema>;
