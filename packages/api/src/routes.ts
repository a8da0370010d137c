// Every route of the operator API, as data: what it takes, what it answers per status, and
// which error codes it can answer. The server's routes take their schemas from here and the
// OpenAPI document is made from this table, so neither can leave the other behind.

import { z } from 'zod';
import type { ApiErrorCode } from './api-errors.ts';
import { auditListSchema, auditQuerySchema } from './audit.ts';
import { edgeListSchema, edgeParamsSchema, edgeSchema, renameEdgeBodySchema } from './edges.ts';
import { enrollmentBodySchema, enrollmentSchema } from './enrollments.ts';
import {
  grantBodySchema,
  grantListSchema,
  grantParamsSchema,
  grantSchema,
  listGrantsQuerySchema,
  revokedGrantSchema,
} from './grants.ts';
import { ownerLimitsBodySchema, ownerLimitsParamsSchema, ownerLimitsSchema } from './owner-limits.ts';
import { quotaBodySchema, quotaListSchema, quotaParamsSchema, quotaSchema } from './quotas.ts';
import { ruleStatsSchema, statsStreamQuerySchema } from './rule-stats.ts';
import {
  listRulesQuerySchema,
  pushRuleBodySchema,
  ruleListSchema,
  ruleParamsSchema,
  ruleSchema,
  updateRuleBodySchema,
} from './rules.ts';
import { trafficQuerySchema, trafficSchema } from './traffic.ts';
import {
  apiTokenListSchema,
  apiTokenSchema,
  changePasswordBodySchema,
  createdTokenSchema,
  createTokenBodySchema,
  createUserBodySchema,
  deletedUserSchema,
  loginBodySchema,
  resetPasswordBodySchema,
  tokenParamsSchema,
  updateUserBodySchema,
  userListSchema,
  userParamsSchema,
  userSchema,
} from './users.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call a route: anyone, any valid token, or an admin's token. */
export type RouteAccess = 'public' | 'token' | 'admin';

/** A success answer: a JSON body, no body (204), or a stream of server-sent events. */
export type RouteResponse =
  | { readonly kind: 'json'; readonly schema: z.ZodType; readonly description: string }
  | { readonly kind: 'empty'; readonly description: string }
  | {
      readonly kind: 'events';
      readonly event: string;
      readonly schema: z.ZodType;
      readonly description: string;
    };

export interface ApiRoute {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** As fastify writes it: `/v1/rules/:id`. */
  readonly path: string;
  readonly summary: string;
  readonly access: RouteAccess;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  /** The error codes it can answer, besides those every route can (auth, internal). */
  readonly errors: readonly ApiErrorCode[];
}

const json = (schema: z.ZodType, description: string): RouteResponse => ({
  kind: 'json',
  schema,
  description,
});

/** `GET /healthz`'s answer. */
export const healthSchema = z.object({ ok: z.literal(true) }).meta({ id: 'Health' });
export type Health = z.infer<typeof healthSchema>;

export const readySchema = z.object({ ready: z.literal(true) }).meta({ id: 'Ready' });
export type Ready = z.infer<typeof readySchema>;

/** The OpenAPI document itself: a JSON object. */
const openApiSchema = z.record(z.string(), z.unknown()).meta({ description: 'an OpenAPI 3.1 document' });

const PUSH_ERRORS = [
  'bad_request',
  'forbidden',
  'not_found',
  'port_in_use',
  'name_taken',
  'edge_revoked',
  'client_not_connected',
  'activation_failed',
  'ack_timeout',
  'not_granted',
  'tenant_limit',
] as const satisfies readonly ApiErrorCode[];

/** Tenancy: the grant routes. */
const GRANT_ROUTES = [
  {
    operationId: 'createGrant',
    method: 'POST',
    path: '/v1/grants',
    summary: 'Grant a user the right to forward on an edge (or every edge) for ports and protocols',
    access: 'admin',
    body: grantBodySchema,
    responses: { 201: json(grantSchema, 'the grant') },
    errors: ['bad_request', 'not_found'],
  },
  {
    operationId: 'listGrants',
    method: 'GET',
    path: '/v1/grants',
    summary: "List grants (a user token sees only its user's)",
    access: 'token',
    query: listGrantsQuerySchema,
    responses: { 200: json(grantListSchema, 'the grants') },
    errors: ['bad_request', 'not_found'],
  },
  {
    operationId: 'revokeGrant',
    method: 'DELETE',
    path: '/v1/grants/:id',
    summary: 'Revoke a grant; the rules only it allowed are drained and removed',
    access: 'admin',
    params: grantParamsSchema,
    responses: { 200: json(revokedGrantSchema, 'the grant and the rules removed with it') },
    errors: ['not_found', 'ack_timeout'],
  },
] as const satisfies readonly ApiRoute[];

/** Tenancy: owner caps per edge. */
const OWNER_LIMIT_ROUTES = [
  {
    operationId: 'setOwnerLimits',
    method: 'PUT',
    path: '/v1/edges/:edge/owners/:owner/limits',
    summary: "Set the caps an owner's rules share on an edge, and push them to the edge",
    access: 'admin',
    params: ownerLimitsParamsSchema,
    body: ownerLimitsBodySchema,
    responses: {
      200: json(ownerLimitsSchema, 'the caps, stored (the edge has them once it acks or reconnects)'),
    },
    errors: ['bad_request', 'not_found', 'ack_timeout'],
  },
  {
    operationId: 'getOwnerLimits',
    method: 'GET',
    path: '/v1/edges/:edge/owners/:owner/limits',
    summary: "The caps an owner's rules share on an edge",
    access: 'admin',
    params: ownerLimitsParamsSchema,
    responses: { 200: json(ownerLimitsSchema, 'the caps') },
    errors: ['not_found'],
  },
  {
    operationId: 'deleteOwnerLimits',
    method: 'DELETE',
    path: '/v1/edges/:edge/owners/:owner/limits',
    summary: "Remove an owner's caps on an edge",
    access: 'admin',
    params: ownerLimitsParamsSchema,
    responses: { 204: { kind: 'empty', description: 'removed' } },
    errors: ['not_found', 'ack_timeout'],
  },
] as const satisfies readonly ApiRoute[];

/** Tenancy: monthly quotas per (user, edge). */
const QUOTA_ROUTES = [
  {
    operationId: 'listQuotas',
    method: 'GET',
    path: '/v1/users/:user/quotas',
    summary: "A user's quotas and their status (a user may see their own)",
    access: 'token',
    params: userParamsSchema,
    responses: { 200: json(quotaListSchema, 'the quotas, with the usage of the current period') },
    errors: ['forbidden', 'not_found'],
  },
  {
    operationId: 'setQuota',
    method: 'PUT',
    path: '/v1/users/:user/quotas/:edge',
    summary: "Set a user's monthly quota on an edge, and push the budget to the edge",
    access: 'admin',
    params: quotaParamsSchema,
    body: quotaBodySchema,
    responses: {
      200: json(quotaSchema, 'the quota, stored (the edge enforces it once it acks or reconnects)'),
    },
    errors: ['bad_request', 'not_found', 'ack_timeout'],
  },
  {
    operationId: 'getQuota',
    method: 'GET',
    path: '/v1/users/:user/quotas/:edge',
    summary: "A user's quota on an edge: used, remaining, the period, when it ran out",
    access: 'token',
    params: quotaParamsSchema,
    responses: { 200: json(quotaSchema, 'the quota') },
    errors: ['forbidden', 'not_found'],
  },
  {
    operationId: 'clearQuota',
    method: 'POST',
    path: '/v1/users/:user/quotas/:edge/clear',
    summary: "Zero a user's usage in the current period; a spent quota serves again at once",
    access: 'admin',
    params: quotaParamsSchema,
    responses: { 200: json(quotaSchema, 'the quota, cleared') },
    errors: ['not_found', 'ack_timeout'],
  },
  {
    operationId: 'deleteQuota',
    method: 'DELETE',
    path: '/v1/users/:user/quotas/:edge',
    summary: "Remove a user's quota on an edge",
    access: 'admin',
    params: quotaParamsSchema,
    responses: { 204: { kind: 'empty', description: 'removed' } },
    errors: ['not_found', 'ack_timeout'],
  },
] as const satisfies readonly ApiRoute[];

/** Tenancy: traffic history. */
const TRAFFIC_ROUTES = [
  {
    operationId: 'getTraffic',
    method: 'GET',
    path: '/v1/traffic',
    summary:
      "Bytes in and out per 1m or 1h bucket, summed over one rule, an edge's, a user's, or all the caller may see (a user token: only its own rules)",
    access: 'token',
    query: trafficQuerySchema,
    responses: { 200: json(trafficSchema, 'the buckets with traffic, and their totals') },
    errors: ['bad_request', 'forbidden', 'not_found'],
  },
] as const satisfies readonly ApiRoute[];

export const API_ROUTES = [
  {
    operationId: 'health',
    method: 'GET',
    path: '/healthz',
    summary: 'Whether the server answers',
    access: 'public',
    responses: { 200: json(healthSchema, 'the server is up') },
    errors: [],
  },
  {
    operationId: 'ready',
    method: 'GET',
    path: '/readyz',
    summary: 'Whether the server can serve: it reads its database (503 store_unavailable when it cannot)',
    access: 'public',
    responses: { 200: json(readySchema, 'the database answered') },
    errors: ['store_unavailable'],
  },
  {
    operationId: 'openapi',
    method: 'GET',
    path: '/v1/openapi.json',
    summary: 'This document',
    access: 'public',
    responses: { 200: json(openApiSchema, 'the OpenAPI 3.1 document of this API') },
    errors: [],
  },
  {
    operationId: 'createEnrollment',
    method: 'POST',
    path: '/v1/enrollments',
    summary: 'Make a one-time enrollment code for an edge name, new or existing',
    access: 'admin',
    body: enrollmentBodySchema,
    responses: { 201: json(enrollmentSchema, 'the code, its URI and the command to run on the edge') },
    errors: ['bad_request'],
  },
  {
    operationId: 'listEdges',
    method: 'GET',
    path: '/v1/edges',
    summary: 'List enrolled edges',
    access: 'token',
    responses: { 200: json(edgeListSchema, 'every edge') },
    errors: [],
  },
  {
    operationId: 'getEdge',
    method: 'GET',
    path: '/v1/edges/:edge',
    summary: 'Show an edge by id or name',
    access: 'token',
    params: edgeParamsSchema,
    responses: { 200: json(edgeSchema, 'the edge') },
    errors: ['not_found'],
  },
  {
    operationId: 'renameEdge',
    method: 'PATCH',
    path: '/v1/edges/:edge',
    summary: 'Rename an edge',
    access: 'admin',
    params: edgeParamsSchema,
    body: renameEdgeBodySchema,
    responses: { 200: json(edgeSchema, 'the renamed edge') },
    errors: ['bad_request', 'not_found', 'name_taken'],
  },
  {
    operationId: 'revokeEdge',
    method: 'POST',
    path: '/v1/edges/:edge/revoke',
    summary: 'Revoke an edge: its session is closed and it can no longer connect',
    access: 'admin',
    params: edgeParamsSchema,
    responses: { 200: json(edgeSchema, 'the revoked edge') },
    errors: ['not_found'],
  },
  {
    operationId: 'deleteEdge',
    method: 'DELETE',
    path: '/v1/edges/:edge',
    summary: 'Delete an edge with its rules',
    access: 'admin',
    params: edgeParamsSchema,
    responses: { 204: { kind: 'empty', description: 'deleted' } },
    errors: ['not_found'],
  },
  {
    operationId: 'pushRule',
    method: 'POST',
    path: '/v1/rules',
    summary: "Push a rule to an edge and wait for the edge's ack",
    access: 'token',
    body: pushRuleBodySchema,
    responses: { 201: json(ruleSchema, 'the rule, active on the edge') },
    errors: PUSH_ERRORS,
  },
  {
    operationId: 'listRules',
    method: 'GET',
    path: '/v1/rules',
    summary: "List rules (a user token sees only its user's)",
    access: 'token',
    query: listRulesQuerySchema,
    responses: { 200: json(ruleListSchema, 'the rules') },
    errors: ['bad_request', 'not_found'],
  },
  {
    operationId: 'getRule',
    method: 'GET',
    path: '/v1/rules/:id',
    summary: 'Show a rule',
    access: 'token',
    params: ruleParamsSchema,
    responses: { 200: json(ruleSchema, 'the rule') },
    errors: ['forbidden', 'not_found'],
  },
  {
    operationId: 'updateRule',
    method: 'PUT',
    path: '/v1/rules/:id',
    summary: "Replace a rule's table at the next revision and wait for the edge's ack",
    access: 'token',
    params: ruleParamsSchema,
    body: updateRuleBodySchema,
    responses: { 200: json(ruleSchema, 'the rule, active at its new revision') },
    errors: PUSH_ERRORS,
  },
  {
    operationId: 'removeRule',
    method: 'DELETE',
    path: '/v1/rules/:id',
    summary: 'Remove a rule; the edge drains its connections',
    access: 'token',
    params: ruleParamsSchema,
    responses: { 200: json(ruleSchema, 'the rule, removed') },
    errors: ['forbidden', 'not_found', 'ack_timeout'],
  },
  {
    operationId: 'getRuleStats',
    method: 'GET',
    path: '/v1/rules/:id/stats',
    summary: "A rule's traffic totals and rates",
    access: 'token',
    params: ruleParamsSchema,
    responses: { 200: json(ruleStatsSchema, "the rule's stats") },
    errors: ['forbidden', 'not_found'],
  },
  {
    operationId: 'streamStats',
    method: 'GET',
    path: '/v1/stats/stream',
    summary: 'Server-sent events: one `stats` event per rule per stats report',
    access: 'token',
    query: statsStreamQuerySchema,
    responses: {
      200: {
        kind: 'events',
        event: 'stats',
        schema: ruleStatsSchema,
        description: 'text/event-stream; each `event: stats` has a RuleStats object as its data',
      },
    },
    errors: ['bad_request', 'forbidden', 'not_found'],
  },
  {
    operationId: 'listAudit',
    method: 'GET',
    path: '/v1/audit',
    summary: 'The audit trail, newest first',
    access: 'admin',
    query: auditQuerySchema,
    responses: { 200: json(auditListSchema, 'the newest entries') },
    errors: ['bad_request'],
  },
  {
    operationId: 'login',
    method: 'POST',
    path: '/v1/auth/login',
    summary: 'Start a web session: sets the HttpOnly session cookie (8 h idle, 7 d at most)',
    access: 'public',
    body: loginBodySchema,
    responses: { 200: json(userSchema, 'the user now logged in') },
    errors: ['bad_request', 'unauthorized', 'rate_limited'],
  },
  {
    operationId: 'logout',
    method: 'POST',
    path: '/v1/auth/logout',
    summary: 'End the web session of the cookie sent, and clear the cookie',
    access: 'token',
    responses: { 204: { kind: 'empty', description: 'logged out' } },
    errors: [],
  },
  {
    operationId: 'listUsers',
    method: 'GET',
    path: '/v1/users',
    summary: 'List users',
    access: 'admin',
    responses: { 200: json(userListSchema, 'every user') },
    errors: [],
  },
  {
    operationId: 'createUser',
    method: 'POST',
    path: '/v1/users',
    summary: 'Make a user, with a password or for tokens only',
    access: 'admin',
    body: createUserBodySchema,
    responses: { 201: json(userSchema, 'the new user') },
    errors: ['bad_request', 'name_taken'],
  },
  {
    operationId: 'getUser',
    method: 'GET',
    path: '/v1/users/:user',
    summary: 'Show a user (`me`: the caller; users may see only themselves)',
    access: 'token',
    params: userParamsSchema,
    responses: { 200: json(userSchema, 'the user') },
    errors: ['forbidden', 'not_found'],
  },
  {
    operationId: 'updateUser',
    method: 'PATCH',
    path: '/v1/users/:user',
    summary: "Change a user's display name, or disable / enable them",
    access: 'admin',
    params: userParamsSchema,
    body: updateUserBodySchema,
    responses: { 200: json(userSchema, 'the user as changed') },
    errors: ['bad_request', 'not_found'],
  },
  {
    operationId: 'deleteUser',
    method: 'DELETE',
    path: '/v1/users/:user',
    summary: 'Delete a user with their rules (drained from their edges), tokens and sessions',
    access: 'admin',
    params: userParamsSchema,
    responses: { 200: json(deletedUserSchema, 'the user and what went with them') },
    errors: ['bad_request', 'not_found'],
  },
  {
    operationId: 'changePassword',
    method: 'PUT',
    path: '/v1/users/me/password',
    summary: 'Change your own password (the current one is required)',
    access: 'token',
    body: changePasswordBodySchema,
    responses: { 204: { kind: 'empty', description: 'changed; other sessions of the user end' } },
    errors: ['bad_request', 'unauthorized'],
  },
  {
    operationId: 'resetPassword',
    method: 'POST',
    path: '/v1/users/:user/password-reset',
    summary: 'Set a temporary password that must be changed at the next login',
    access: 'admin',
    params: userParamsSchema,
    body: resetPasswordBodySchema,
    responses: { 204: { kind: 'empty', description: "set; the user's sessions end" } },
    errors: ['bad_request', 'not_found'],
  },
  {
    operationId: 'listTokens',
    method: 'GET',
    path: '/v1/users/:user/tokens',
    summary: "List a user's API tokens (users: their own)",
    access: 'token',
    params: userParamsSchema,
    responses: { 200: json(apiTokenListSchema, 'the tokens, without their secrets') },
    errors: ['forbidden', 'not_found'],
  },
  {
    operationId: 'createToken',
    method: 'POST',
    path: '/v1/users/:user/tokens',
    summary: 'Make an API token (users: for themselves); the secret is shown once',
    access: 'token',
    params: userParamsSchema,
    body: createTokenBodySchema,
    responses: { 201: json(createdTokenSchema, 'the token, with its secret') },
    errors: ['bad_request', 'forbidden', 'not_found'],
  },
  {
    operationId: 'revokeToken',
    method: 'DELETE',
    path: '/v1/users/:user/tokens/:token',
    summary: 'Revoke an API token (users: their own)',
    access: 'token',
    params: tokenParamsSchema,
    responses: { 200: json(apiTokenSchema, 'the token, revoked') },
    errors: ['forbidden', 'not_found'],
  },
  ...GRANT_ROUTES,
  ...OWNER_LIMIT_ROUTES,
  ...QUOTA_ROUTES,
  ...TRAFFIC_ROUTES,
] as const satisfies readonly ApiRoute[];
