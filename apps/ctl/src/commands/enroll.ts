// `sluicectl enroll EDGE [--ttl 10m]`: a one-time enrollment code, its URI and the command to
// run on the edge. The server parses the ttl (30s, 10m, 2h; 1 min .. 7 days).

import { enrollmentSchema } from '@sluice/api';
import { formatEnrollment, formatJson } from '../format.ts';
import type { CommandContext } from './context.ts';

export async function enroll(ctx: CommandContext, edge: string, ttl: string | undefined): Promise<void> {
  const body = await ctx.client.request(
    'POST',
    '/v1/enrollments',
    ttl === undefined ? { edge } : { edge, ttl },
  );
  if (ctx.format === 'json') return ctx.out(formatJson(body));
  ctx.out(formatEnrollment(ctx.client.parse(enrollmentSchema, body, 'POST /v1/enrollments')));
}
