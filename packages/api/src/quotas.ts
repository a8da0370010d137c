// /v1/users/:user/quotas: monthly traffic quotas, one per (user, edge). The edge enforces each
// from a budget the server pushes; the server counts the usage the edges report and answers
// the status: used, remaining, the period and when the quota ran out.

import { z } from 'zod';
import { edgeRefSchema } from './edges.ts';
import { timestampSchema } from './timestamps.ts';

/** `:user` and `:edge` in a path. */
export const quotaParamsSchema = z.object({
  user: z.string().min(1).meta({ description: 'a user id (u_...), a user name, or "me"' }),
  edge: z.string().min(1).meta({ description: 'an edge id (e_...) or its name' }),
});
export type QuotaParams = z.infer<typeof quotaParamsSchema>;

export const quotaBodySchema = z
  .object({
    monthlyBytes: z
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .meta({ description: 'bytes in + out the user may move on the edge per period' }),
    periodAnchor: timestampSchema.optional().meta({
      description:
        'periods start on this day of the month at this time (UTC); default: the first of the current month, 00:00 UTC',
    }),
  })
  .strict()
  .meta({ id: 'QuotaBody' });
export type QuotaBody = z.infer<typeof quotaBodySchema>;

export const quotaSchema = z
  .object({
    user: z.object({ id: z.string(), name: z.string() }),
    edge: edgeRefSchema,
    monthlyBytes: z.number(),
    periodAnchor: timestampSchema,
    periodStart: timestampSchema,
    periodEnd: timestampSchema,
    usedBytes: z.number(),
    remainingBytes: z.number(),
    /** When the usage reached the quota in this period; null while it has not. */
    exhaustedAt: timestampSchema.nullable(),
  })
  .meta({ id: 'Quota' });
export type Quota = z.infer<typeof quotaSchema>;

export const quotaListSchema = z.object({ quotas: z.array(quotaSchema) }).meta({ id: 'QuotaList' });
export type QuotaList = z.infer<typeof quotaListSchema>;

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Parses a size such as `64MiB`, `10GB` or `1048576` into whole bytes; null when it is not
 * one. For people typing a quota (sluicectl); the API itself takes bytes.
 */
export function parseByteSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (match === null) return null;
  const unit = SIZE_UNITS[(match[2] ?? '').toLowerCase() || 'b'];
  if (unit === undefined) return null;
  const bytes = Math.round(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}
