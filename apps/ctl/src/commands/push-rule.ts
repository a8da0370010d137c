// `sluicectl push-rule EDGE LISTEN TARGET... [flags]`: sends the rule and waits for the edge's
// ack, so success means the edge is forwarding.

import { ruleSchema } from '@sluice/api';
import { formatJson, formatRule } from '../format.ts';
import type { RuleRequest } from '../rule-args.ts';
import type { CommandContext } from './context.ts';

export async function pushRule(ctx: CommandContext, request: RuleRequest): Promise<void> {
  const body = await ctx.client.request('POST', '/v1/rules', request);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  const rule = ctx.client.parse(ruleSchema, body, 'POST /v1/rules');
  ctx.out(
    formatRule(rule, `rule ${rule.id} (${rule.name}) is ${rule.state} on edge ${rule.edge.name}`, ctx.color),
  );
}
