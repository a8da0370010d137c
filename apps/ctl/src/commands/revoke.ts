// `sluicectl revoke EDGE`: closes the edge's session; it can no longer connect.

import { edgeSchema } from '@sluice/api';
import { formatEdgeChange, formatJson } from '../format.ts';
import type { CommandContext } from './context.ts';

export async function revoke(ctx: CommandContext, edge: string): Promise<void> {
  const path = `/v1/edges/${encodeURIComponent(edge)}/revoke`;
  const body = await ctx.client.request('POST', path);
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatEdgeChange(ctx.client.parse(edgeSchema, body, `POST ${path}`), 'revoked'));
}
