// GET /v1/audit: the audit trail, newest first, filtered by user, action and time, a page at a
// time (`next` is the `before` of the next page). Admin only.

import { type AuditList, auditQuerySchema, isoTime } from '@sluice/api';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './api-context.ts';
import { parseInput } from './parse-body.ts';

export function auditRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get('/v1/audit', { config: { admin: true, action: 'audit.read' } }, async (request) => {
    const query = parseInput(auditQuerySchema, request.query, 'query');
    const entries = await context.store.audit.list({
      limit: query.limit,
      user: query.user,
      action: query.action,
      since: query.since === undefined ? undefined : Date.parse(query.since),
      until: query.until === undefined ? undefined : Date.parse(query.until),
      before: query.before,
    });
    return {
      entries: entries.map((entry) => ({ ...entry, at: isoTime(entry.at) })),
      next: entries.length === query.limit ? (entries.at(-1)?.id ?? null) : null,
    } satisfies AuditList;
  });
}
