// POST /v1/enrollments: a one-time code for an edge name (new or existing), and the URI and
// command that redeem it.

import { formatEnrollUri } from '@sluice/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseDuration } from '../duration.ts';
import type { ApiContext } from './api-context.ts';
import { userOf } from './api-context.ts';
import { edgeNameSchema } from './edge-name.ts';
import { parseInput } from './parse-body.ts';

const MIN_TTL_MS = 60_000;
const MAX_TTL_MS = 7 * 86_400_000;
export const DEFAULT_TTL = '10m';

const ttlSchema = z.string().transform((text, ctx) => {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
  if (ms < MIN_TTL_MS || ms > MAX_TTL_MS) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is outside 1m .. 7d` });
    return z.NEVER;
  }
  return ms;
});

const enrollmentBody = z.object({ edge: edgeNameSchema, ttl: ttlSchema.optional() }).strict();

export function enrollmentRoutes(app: FastifyInstance, context: ApiContext): void {
  app.post(
    '/v1/enrollments',
    { config: { action: 'enrollment.create', admin: true } },
    async (request, reply) => {
      const body = parseInput(enrollmentBody, request.body);
      const ttlMs = body.ttl ?? parseDuration(DEFAULT_TTL);
      const { edge, code, enrollment } = await context.store.edges.createEnrollment(
        body.edge,
        ttlMs,
        userOf(request).name,
      );
      request.auditTarget = edge.id;
      const uri = formatEnrollUri({
        host: context.advertise.host,
        port: context.advertise.port,
        pin: context.fingerprint,
        code,
      });
      return reply.code(201).send({
        edge: { id: edge.id, name: edge.name },
        code,
        uri,
        command: `sluice-edge enroll '${uri}' --bundle ./sluice-edge.bundle`,
        expiresAt: new Date(enrollment.expiresAt).toISOString(),
      });
    },
  );
}
