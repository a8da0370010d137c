// The audit trail of the API: every change (any request that is not a read), whatever its
// outcome, and every denial (401, 403) of any request. Written in onSend, before the reply
// goes out, so a client that reads the audit right after its request finds it there.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from './api-context.ts';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function auditHook(context: ApiContext) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const denied = reply.statusCode === 401 || reply.statusCode === 403;
    if (READS.has(request.method) && !denied) return payload;
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const route = request.routeOptions.url ?? request.url;
    try {
      await context.store.audit.add({
        user: request.user?.name ?? null,
        action: request.routeOptions.config.action ?? `${request.method} ${route}`,
        target: request.auditTarget ?? params.id ?? params.edge ?? null,
        outcome: request.errorCode ?? 'ok',
        from: request.ip,
        change: request.errorCode === null ? request.auditChange : null,
      });
    } catch (error) {
      // A failed audit write must be seen, but it must not turn a done change into an error.
      request.log.error({ err: error }, 'audit write failed');
    }
    return payload;
  };
}
