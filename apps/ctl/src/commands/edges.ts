// `sluicectl edges`: every enrolled edge, whether it is connected, and how many rules it has.

import { edgeListSchema } from '@sluice/api';
import { formatEdges, formatJson } from '../format.ts';
import type { CommandContext } from './context.ts';

export async function edges(ctx: CommandContext): Promise<void> {
  const body = await ctx.client.request('GET', '/v1/edges');
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatEdges(ctx.client.parse(edgeListSchema, body, 'GET /v1/edges').edges, ctx.now(), ctx.color));
}
