// /v1/edges/:edge/owners/:owner/limits: the caps one owner's rules share on one edge, the
// `[owners.NAME] limits` table of the standalone config. The server validates the table with
// that config's limits schema, so here it is an object.

import { z } from 'zod';
import { edgeRefSchema } from './edges.ts';
import { timestampSchema } from './timestamps.ts';

/** `:edge` and `:owner` in a path. */
export const ownerLimitsParamsSchema = z.object({
  edge: z.string().min(1).meta({ description: 'an edge id (e_...) or its name' }),
  owner: z.string().min(1).max(64).meta({ description: "the owner (a user's name)" }),
});
export type OwnerLimitsParams = z.infer<typeof ownerLimitsParamsSchema>;

/** A `limits` table in the standalone config's keys (`bandwidth`, `max_connections`, ...). */
const limitsTableSchema = z.record(z.string(), z.unknown()).meta({
  id: 'LimitsTable',
  description:
    'an [owners.NAME] limits table of the standalone config, as JSON: bandwidth, bandwidth_in, bandwidth_out, burst, new_connections_per_sec, new_connections_burst, max_connections (docs/config.md)',
});

export const ownerLimitsBodySchema = z
  .object({ limits: limitsTableSchema })
  .strict()
  .meta({ id: 'OwnerLimitsBody' });
export type OwnerLimitsBody = z.infer<typeof ownerLimitsBodySchema>;

export const ownerLimitsSchema = z
  .object({
    edge: edgeRefSchema,
    owner: z.string(),
    limits: limitsTableSchema,
    updatedAt: timestampSchema,
  })
  .meta({ id: 'OwnerLimits' });
export type OwnerLimits = z.infer<typeof ownerLimitsSchema>;
