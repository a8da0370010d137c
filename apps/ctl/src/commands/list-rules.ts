// `sluicectl list-rules [--edge EDGE]`: rules with their state (a `user` token sees its own).

import { ruleListSchema } from '@sluice/api';
import { formatJson, formatRules } from '../format.ts';
import type { CommandContext } from './context.ts';

export async function listRules(ctx: CommandContext, edge: string | undefined): Promise<void> {
  const path = edge === undefined ? '/v1/rules' : `/v1/rules?${new URLSearchParams({ edge })}`;
  const body = await ctx.client.request('GET', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatRules(ctx.client.parse(ruleListSchema, body, `GET ${path}`).rules, ctx.color));
}
