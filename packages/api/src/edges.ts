// /v1/edges: an edge as the API shows it, and what renaming one takes.

import { z } from 'zod';
import { edgeNameSchema } from './edge-name.ts';
import { timestampSchema } from './timestamps.ts';

/** `:edge` in a path: an edge id or its name. */
export const edgeParamsSchema = z.object({
  edge: z.string().min(1).meta({ description: 'an edge id (e_...) or its name' }),
});
export type EdgeParams = z.infer<typeof edgeParamsSchema>;

/** An edge as rules and enrollments name it. */
export const edgeRefSchema = z.object({ id: z.string(), name: z.string() }).meta({ id: 'EdgeRef' });
export type EdgeRef = z.infer<typeof edgeRefSchema>;

export const edgeSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    connected: z.boolean().meta({ description: 'whether the edge has a control session now' }),
    revoked: z.boolean(),
    version: z.int().nullable().meta({ description: 'the protocol version of its last hello' }),
    lastSeenAt: timestampSchema.nullable(),
    enrolledAt: timestampSchema.nullable(),
    rules: z.int().min(0).meta({ description: 'how many live rules it has' }),
  })
  .meta({ id: 'Edge' });
export type Edge = z.infer<typeof edgeSchema>;

export const edgeListSchema = z.object({ edges: z.array(edgeSchema) }).meta({ id: 'EdgeList' });
export type EdgeList = z.infer<typeof edgeListSchema>;

export const renameEdgeBodySchema = z.object({ name: edgeNameSchema }).strict().meta({ id: 'RenameEdge' });
export type RenameEdgeBody = z.infer<typeof renameEdgeBodySchema>;
