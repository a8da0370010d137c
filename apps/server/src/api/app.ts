// The operator HTTP API (fastify): hooks for auth, audit and metrics, one error shape for
// everything (`{ error: { code, message } }` with codes from errors.ts), and the routes.

import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import { ServerError } from '../errors.ts';
import type { ApiContext } from './api-context.ts';
import { auditHook } from './audit-trail.ts';
import { auditRoutes } from './audit-routes.ts';
import { authHook } from './auth.ts';
import { edgeRoutes } from './edge-routes.ts';
import { enrollmentRoutes } from './enrollment-routes.ts';
import { ruleRoutes } from './rule-routes.ts';
import { statsStreamRoutes } from './stats-stream.ts';

// fastify's own 4xx errors (body parsing, content type, size) are all bad requests to a client.
const BODY_ERRORS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'body: not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'body: empty, but content-type is application/json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'body: content-type must be application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body: larger than the 1 MiB limit',
};

function toServerError(error: FastifyError | Error): ServerError {
  if (error instanceof ServerError) return error;
  const fastifyError = error as FastifyError;
  const known = fastifyError.code === undefined ? undefined : BODY_ERRORS[fastifyError.code];
  if (known !== undefined) {
    return new ServerError(
      'bad_request',
      fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? `${known}: ${error.message}` : known,
    );
  }
  if (
    fastifyError.statusCode !== undefined &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new ServerError('bad_request', error.message);
  }
  return new ServerError('internal', 'internal error; the server log has the details');
}

export async function buildApi(context: ApiContext): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is wider than fastify's logger type; fastify takes it as its base logger.
    loggerInstance: context.logger.child({ area: 'api' }) as FastifyBaseLogger,
    // One line per request, from onResponse below, carrying the user and the outcome.
    logController: new LogController({ disableRequestLogging: true }),
    // SSE streams would hold close() open forever.
    forceCloseConnections: true,
  });
  app.decorateRequest('user', null);
  app.decorateRequest('errorCode', null);
  app.decorateRequest('auditTarget', null);

  app.addHook('onRequest', authHook(context));
  app.addHook('onSend', auditHook(context));
  app.addHook('onResponse', async (request, reply) => {
    const outcome = request.errorCode ?? 'ok';
    context.metrics?.apiRequests.inc({ route: request.routeOptions.url ?? 'unmatched', outcome });
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        outcome,
        user: request.user?.name,
        from: request.ip,
        ms: Math.round(reply.elapsedTime),
      },
      'api request',
    );
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const serverError = toServerError(error);
    if (serverError.code === 'internal') request.log.error({ err: error }, 'internal error');
    request.errorCode = serverError.code;
    return reply.code(serverError.status).send(serverError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ServerError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
    request.errorCode = error.code;
    return reply.code(error.status).send(error.toBody());
  });

  app.get('/healthz', { config: { public: true } }, async () => ({ ok: true }));
  enrollmentRoutes(app, context);
  edgeRoutes(app, context);
  ruleRoutes(app, context);
  statsStreamRoutes(app, context);
  auditRoutes(app, context);
  await app.ready();
  return app;
}
