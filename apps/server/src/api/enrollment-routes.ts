// POST /v1/enrollments: a one-time code for an edge name (new or existing), and the URI and
// command that redeem it.

import {
  DEFAULT_ENROLLMENT_TTL,
  type Enrollment,
  enrollmentBodySchema,
  isoTime,
  parseDuration,
} from '@sluice/api';
import { formatEnrollUri } from '@sluice/protocol';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './api-context.ts';
import { userOf } from './api-context.ts';
import { parseInput } from './parse-body.ts';

export function enrollmentRoutes(app: FastifyInstance, context: ApiContext): void {
  app.post(
    '/v1/enrollments',
    { config: { action: 'enrollment.create', admin: true } },
    async (request, reply) => {
      const body = parseInput(enrollmentBodySchema, request.body);
      const ttlMs = body.ttl ?? parseDuration(DEFAULT_ENROLLMENT_TTL);
      // Before the code exists: a failure here must not leave a code no one was given.
      const servers = await context.controlAddresses();
      const { edge, code, enrollment } = await context.store.edges.createEnrollment(
        body.edge,
        ttlMs,
        userOf(request).name,
      );
      request.auditTarget = edge.id;
      const uri = formatEnrollUri({
        servers,
        pin: context.fingerprint,
        code,
      });
      return reply.code(201).send({
        edge: { id: edge.id, name: edge.name },
        code,
        uri,
        command: `sluice-edge enroll '${uri}' --bundle ./sluice-edge.bundle`,
        expiresAt: isoTime(enrollment.expiresAt),
      } satisfies Enrollment);
    },
  );
}
