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
  })
  .strict();
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const auditEntrySchema = z
  .object({
    at: timestampSchema,
    user: z.string().nullable().meta({ description: 'null when no valid token was sent' }),
    action: z.string().meta({ description: 'rule.push, edge.revoke, ... or METHOD ROUTE' }),
    target: z.string().nullable().meta({ description: 'the edge or rule id acted on' }),
    outcome: z.string().meta({ description: 'ok, or the error code' }),
    from: z.string().nullable().meta({ description: "the client's address" }),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const auditListSchema = z.object({ entries: z.array(auditEntrySchema) }).meta({ id: 'AuditList' });
export type AuditList = z.infer<typeof auditListSchema>;
