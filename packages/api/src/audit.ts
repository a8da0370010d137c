// GET /v1/audit: the audit trail, newest first.

import { z } from 'zod';
import { timestampSchema } from './timestamps.ts';

export const auditQuerySchema = z
  .object({
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(100)
      .meta({ description: 'how many entries, newest first' }),
    user: z.string().min(1).optional().meta({ description: 'only the entries of this user name' }),
    action: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'only this action, e.g. rule.push or auth.login' }),
    since: timestampSchema.optional().meta({ description: 'only entries at or after this time' }),
    until: timestampSchema.optional().meta({ description: 'only entries before this time' }),
    before: z.coerce
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'the next page: entries older than this id (the `next` of the page before)' }),
  })
  .strict()
  .refine((query) => query.since === undefined || query.until === undefined || query.since < query.until, {
    error: 'since must be before until',
    path: ['since'],
  });
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const auditEntrySchema = z
  .object({
    id: z.int().min(1).meta({ description: 'increasing; pages are cut by it' }),
    at: timestampSchema,
    user: z.string().nullable().meta({ description: 'null when no valid token was sent' }),
    action: z.string().meta({ description: 'rule.push, edge.revoke, ... or METHOD ROUTE' }),
    target: z.string().nullable().meta({ description: 'the edge or rule id acted on' }),
    outcome: z.string().meta({ description: 'ok, or the error code' }),
    from: z.string().nullable().meta({ description: "the client's address" }),
    change: z.object({ before: z.unknown(), after: z.unknown() }).nullable().meta({
      description:
        'for a change: the object as the API showed it before and after (null where it did not exist)',
    }),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const auditListSchema = z
  .object({
    entries: z.array(auditEntrySchema),
    next: z
      .int()
      .nullable()
      .meta({ description: 'pass as `before` for the next (older) page; null on the last page' }),
  })
  .meta({ id: 'AuditList' });
export type AuditList = z.infer<typeof auditListSchema>;
