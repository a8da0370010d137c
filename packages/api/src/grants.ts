// /v1/grants: an admin's word that a user may forward on one edge (or every edge, `*`), for a
// range of listen ports and the protocols named. A user's rule must fit inside one grant.

import { z } from 'zod';
import { ruleSchema } from './rules.ts';
import { timestampSchema } from './timestamps.ts';

export const GRANT_PROTOCOLS = ['tcp', 'udp'] as const;

/** The edge a grant holds on: every edge, or one. */
const grantEdgeSchema = z.union([z.literal('*'), z.object({ id: z.string(), name: z.string() })]);

const portSchema = z.int().min(1).max(65_535);

const portRangeSchema = z
  .object({ from: portSchema, to: portSchema })
  .strict()
  .refine((range) => range.from <= range.to, { message: 'from must not be above to', path: ['to'] });

export const grantBodySchema = z
  .object({
    user: z.string().min(1).meta({ description: 'the user name' }),
    edge: z.string().min(1).meta({ description: 'an edge id or name, or `*` for every edge' }),
    ports: portRangeSchema.meta({ description: 'the listen ports from..to, both included' }),
    protocols: z
      .array(z.enum(GRANT_PROTOCOLS))
      .min(1)
      .refine((list) => new Set(list).size === list.length, { message: 'a protocol is named twice' }),
  })
  .strict()
  .meta({ id: 'GrantBody' });
export type GrantBody = z.infer<typeof grantBodySchema>;

export const grantSchema = z
  .object({
    id: z.string(),
    user: z.object({ id: z.string(), name: z.string() }),
    edge: grantEdgeSchema,
    ports: z.object({ from: portSchema, to: portSchema }),
    protocols: z.array(z.enum(GRANT_PROTOCOLS)),
    createdAt: timestampSchema,
  })
  .meta({ id: 'Grant' });
export type Grant = z.infer<typeof grantSchema>;

export const grantListSchema = z.object({ grants: z.array(grantSchema) }).meta({ id: 'GrantList' });
export type GrantList = z.infer<typeof grantListSchema>;

export const listGrantsQuerySchema = z
  .object({
    user: z.string().min(1).optional().meta({ description: 'only the grants of this user (name)' }),
    edge: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'only the grants on this edge (id or name), `*` included' }),
  })
  .strict();
export type ListGrantsQuery = z.infer<typeof listGrantsQuerySchema>;

/** `:id` of a grant in a path. */
export const grantParamsSchema = z.object({ id: z.string().min(1).meta({ description: 'a grant id' }) });
export type GrantParams = z.infer<typeof grantParamsSchema>;

/** What revoking a grant answers: the grant, and the rules that only it allowed, now removed. */
export const revokedGrantSchema = z
  .object({
    grant: grantSchema,
    removed: z
      .array(ruleSchema)
      .meta({ description: 'the rules no other grant of the user covers, drained and removed' }),
  })
  .meta({ id: 'RevokedGrant' });
export type RevokedGrant = z.infer<typeof revokedGrantSchema>;
