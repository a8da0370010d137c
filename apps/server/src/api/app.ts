// The operator HTTP API (fastify): hooks for auth, audit and metrics, one error shape for
// everything (`{ error: { code, message } }` with the codes of @sluice/api's table), and the
// routes, each of which must be in @sluice/api's route table.

import {
  API_ERRORS,
  API_ROUTES,
  type ApiErrorCode,
  apiErrorBody,
  type Health,
  openApiDocument,
  type Ready,
} from '@sluice/api';
import type { SluiceError } from '@sluice/errors';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { apiError, SERVER_ERRORS } from '../errors.ts';
import { DENIAL_CODES } from '../metrics.ts';
import { storeProblem } from '../readiness.ts';
import type { ApiContext } from './api-context.ts';
import { auditRoutes } from './audit-routes.ts';
import { auditHook } from './audit-trail.ts';
import { authHook } from './auth.ts';
import { authRoutes } from './auth-routes.ts';
import { consoleRoutes } from './console-routes.ts';
import { edgeRoutes } from './edge-routes.ts';
import { enrollmentRoutes } from './enrollment-routes.ts';
import { grantRoutes } from './grant-routes.ts';
import { ownerLimitRoutes } from './owner-limit-routes.ts';
import { quotaRoutes } from './quota-routes.ts';
import { ruleRoutes } from './rule-routes.ts';
import { statsStreamRoutes } from './stats-stream.ts';
import { trafficRoutes } from './traffic-routes.ts';
import { userRoutes } from './user-routes.ts';

// fastify's own 4xx errors (body parsing, content type, size) are all bad requests to a client.
const BODY_ERRORS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'body: not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'body: empty, but content-type is application/json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'body: content-type must be application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body: larger than the 1 MiB limit',
};

/** The API error a failure is answered with; anything not of the API's table is internal. */
function toApiError(error: FastifyError | Error): SluiceError<ApiErrorCode> {
  if (API_ERRORS.is(error)) return error;
  // The store's database is down or busy: the client may retry, unlike after a bug.
  if (SERVER_ERRORS.is(error) && error.code === 'store_unavailable') {
    // Its message names the database's host or file, which is the operator's business (the log).
    return apiError('store_unavailable', 'the server cannot reach its database now; retry shortly');
  }
  const fastifyError = error as FastifyError;
  const known = fastifyError.code === undefined ? undefined : BODY_ERRORS[fastifyError.code];
  if (known !== undefined) {
    return apiError(
      'bad_request',
      fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? `${known}: ${error.message}` : known,
    );
  }
  if (
    fastifyError.statusCode !== undefined &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return apiError('bad_request', error.message);
  }
  return apiError('internal', 'internal error; the server log has the details');
}

/** Refuses, at start-up, a route that the API's contract does not list (the console's files aside). */
function checkInContract(route: { method: string | string[]; url: string; config?: unknown }): void {
  if ((route.config as { console?: boolean } | undefined)?.console === true) return;
  for (const method of [route.method].flat()) {
    if (method === 'HEAD') continue;
    if (!API_ROUTES.some((known) => known.method === method && known.path === route.url)) {
      throw new Error(
        `${method} ${route.url} is not in @sluice/api's route table (packages/api/src/routes.ts)`,
      );
    }
  }
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
  app.addHook('onRoute', checkInContract);
  app.decorateRequest('user', null);
  app.decorateRequest('errorCode', null);
  app.decorateRequest('auditTarget', null);
  app.decorateRequest('sessionId', null);
  app.decorateRequest('auditChange', null);

  app.addHook('onRequest', authHook(context));
  app.addHook('onSend', auditHook(context));
  app.addHook('onResponse', async (request, reply) => {
    const outcome = request.errorCode ?? 'ok';
    context.metrics?.apiRequests.inc({ route: request.routeOptions.url ?? 'unmatched', outcome });
    if (DENIAL_CODES.includes(outcome as ApiErrorCode)) context.metrics?.denials.inc({ reason: outcome });
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
    const answer = toApiError(error);
    if (answer.code === 'internal') request.log.error({ err: error }, 'internal error');
    if (answer.code === 'store_unavailable') request.log.warn({ err: error }, 'store unavailable');
    request.errorCode = answer.code;
    return reply.code(API_ERRORS.table[answer.code].status).send(apiErrorBody(answer.code, answer.message));
  });
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const message = `no route ${request.method} ${request.url.split('?')[0]}`;
    request.errorCode = 'not_found';
    return reply.code(API_ERRORS.table.not_found.status).send(apiErrorBody('not_found', message));
  };
  app.setNotFoundHandler(notFound);

  app.get('/healthz', { config: { public: true } }, async () => ({ ok: true }) satisfies Health);
  app.get('/readyz', { config: { public: true } }, async () => {
    const problem = await storeProblem(context.store);
    if (problem !== null) throw apiError('store_unavailable', `the database cannot be read: ${problem}`);
    return { ready: true } satisfies Ready;
  });
  // The contract itself, for clients that generate code from it; it holds nothing secret.
  const openApi = openApiDocument();
  app.get('/v1/openapi.json', { config: { public: true } }, async () => openApi);
  enrollmentRoutes(app, context);
  edgeRoutes(app, context);
  ruleRoutes(app, context);
  statsStreamRoutes(app, context);
  auditRoutes(app, context);
  authRoutes(app, context);
  userRoutes(app, context);
  grantRoutes(app, context);
  ownerLimitRoutes(app, context);
  quotaRoutes(app, context);
  trafficRoutes(app, context);
  consoleRoutes(app, notFound, context.webDir);
  await app.ready();
  return app;
}
