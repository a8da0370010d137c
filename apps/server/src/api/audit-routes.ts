// GET /v1/audit?limit=N: the newest entries of the audit trail first. Admin only.

import { type AuditList, auditQuerySchema, isoTime } from '@sluice/api';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './api-context.ts';
import { parseInput } from './parse-body.ts';

export function auditRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get('/v1/audit', { config: { admin: true, action: 'audit.read' } }, async (request) => {
    const query = parseInput(auditQuerySchema, request.query, 'query');
    return {
      entries: (await context.store.audit.list(query.limit)).map((entry) => ({
        ...entry,
        at: isoTime(entry.at),
      })),
    } satisfies AuditList;
  });
}
