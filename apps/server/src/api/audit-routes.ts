// GET /v1/audit?limit=N: the newest entries of the audit trail first. Admin only.

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiContext } from './api-context.ts';
import { parseInput } from './parse-body.ts';

const auditQuery = z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(100) }).strict();

export function auditRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get('/v1/audit', { config: { admin: true, action: 'audit.read' } }, async (request) => {
    const query = parseInput(auditQuery, request.query, 'query');
    return {
      entries: (await context.store.audit.list(query.limit)).map((entry) => ({
        ...entry,
        at: new Date(entry.at).toISOString(),
      })),
    };
  });
}
