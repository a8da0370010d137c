// /v1/grants: an admin grants and revokes; anyone lists (a user token sees only its own).
// Revoking drains and removes the rules of the user that no other of its grants covers.

import {
  API_ERRORS,
  type Grant,
  type GrantList,
  type GrantParams,
  grantBodySchema,
  grantParamsSchema,
  isoTime,
  listGrantsQuerySchema,
  type RevokedGrant,
  type Rule,
} from '@sluice/api';
import type { FastifyInstance } from 'fastify';
import { apiError } from '../errors.ts';
import { isGranted, useOf } from '../grant-check.ts';
import type { GrantRecord } from '../store/records.ts';
import { type ApiContext, userOf } from './api-context.ts';
import { findEdgeOr404 } from './edge-routes.ts';
import { parseInput } from './parse-body.ts';
import { ruleView } from './views.ts';

export function grantView(grant: GrantRecord): Grant {
  return {
    id: grant.id,
    user: { id: grant.userId, name: grant.userName },
    edge: grant.edgeId === null ? '*' : { id: grant.edgeId, name: grant.edgeName ?? grant.edgeId },
    ports: { from: grant.portLo, to: grant.portHi },
    protocols: [...grant.protocols],
    createdAt: isoTime(grant.createdAt),
  };
}

export function grantRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store } = context;

  const userIdOr404 = async (name: string): Promise<string> => {
    const user = await store.users.getByName(name);
    if (user === null) throw apiError('not_found', `user: no user named ${JSON.stringify(name)}`);
    return user.id;
  };

  app.post('/v1/grants', { config: { action: 'grant.add', admin: true } }, async (request, reply) => {
    const body = parseInput(grantBodySchema, request.body);
    const userId = await userIdOr404(body.user);
    const edgeId = body.edge === '*' ? null : (await findEdgeOr404(context, body.edge)).id;
    const grant = await store.grants.create({
      userId,
      edgeId,
      portLo: body.ports.from,
      portHi: body.ports.to,
      protocols: body.protocols,
    });
    request.auditTarget = grant.id;
    context.logger.info({ grantId: grant.id, user: body.user, edge: body.edge }, 'grant added');
    return reply.code(201).send(grantView(grant));
  });

  app.get('/v1/grants', async (request) => {
    const user = userOf(request);
    const query = parseInput(listGrantsQuerySchema, request.query, 'query');
    const edgeId =
      query.edge === undefined || query.edge === '*'
        ? undefined
        : (await findEdgeOr404(context, query.edge)).id;
    let userId = query.user === undefined ? undefined : await userIdOr404(query.user);
    if (user.role !== 'admin') {
      if (userId !== undefined && userId !== user.id) {
        throw apiError('forbidden', `user: ${user.name} may list only its own grants`);
      }
      userId = user.id;
    }
    const grants = await store.grants.list({ userId, edgeId });
    const shown = query.edge === '*' ? grants.filter((grant) => grant.edgeId === null) : grants;
    return { grants: shown.map(grantView) } satisfies GrantList;
  });

  app.delete<{ Params: GrantParams }>(
    '/v1/grants/:id',
    { config: { action: 'grant.revoke', admin: true } },
    async (request) => {
      const { id } = parseInput(grantParamsSchema, request.params, 'params');
      const grant = await store.grants.get(id);
      if (grant === null) throw apiError('not_found', `no grant with id ${JSON.stringify(id)}`);
      request.auditTarget = grant.id;
      await store.grants.delete(grant.id);
      const others = await store.grants.listByUser(grant.userId);
      const rules = await store.rules.list({
        owner: grant.userName,
        ...(grant.edgeId === null ? {} : { edgeId: grant.edgeId }),
      });
      const removed: Rule[] = [];
      for (const rule of rules) {
        if (isGranted(others, useOf(rule.edgeId, rule.body))) continue;
        try {
          removed.push(ruleView(await context.rules.remove(rule)));
        } catch (error) {
          // The rule is a tombstone already; an offline edge drops it on its next full push.
          if (!API_ERRORS.is(error) || error.code !== 'ack_timeout') throw error;
          const tombstone = await store.rules.get(rule.id);
          if (tombstone !== null) removed.push(ruleView(tombstone));
        }
      }
      context.logger.info({ grantId: grant.id, removed: removed.length }, 'grant revoked');
      return { grant: grantView(grant), removed } satisfies RevokedGrant;
    },
  );
}
