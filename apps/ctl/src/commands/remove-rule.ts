// `sluicectl remove-rule ID`: the edge drains the rule's connections; an offline edge drops it
// on reconnect.

import { ruleSchema } from '@sluice/api';
import { formatJson, formatRule } from '../format.ts';
import type { CommandContext } from './context.ts';

export async function removeRule(ctx: CommandContext, id: string): Promise<void> {
  const path = `/v1/rules/${encodeURIComponent(id)}`;
  const body = await ctx.client.request('DELETE', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  const rule = ctx.client.parse(ruleSchema, body, `DELETE ${path}`);
  const what = rule.state === 'removed' ? 'removed from' : `${rule.state} on`;
  ctx.out(formatRule(rule, `rule ${rule.id} (${rule.name}) ${what} edge ${rule.edge.name}`, ctx.color));
}
