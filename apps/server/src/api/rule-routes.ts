// /v1/rules: push, list, show, update, remove, and a rule's stats. A `user` token sees and
// touches only the rules it owns; an admin's sees all and may push for another owner.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ServerError } from '../errors.ts';
import { validateRuleBody } from '../rule-service.ts';
import type { RuleRecord, UserRecord } from '../store/records.ts';
import { type ApiContext, userOf } from './api-context.ts';
import { findEdgeOr404 } from './edge-routes.ts';
import { parseInput } from './parse-body.ts';
import { ruleView, statsView } from './views.ts';

const ownerSchema = z.string().min(1).max(64);
const pushBody = z
  .object({ edge: z.string().min(1), rule: z.unknown(), owner: ownerSchema.optional() })
  .strict();
const updateBody = z.object({ rule: z.unknown() }).strict();
const listQuery = z.object({ edge: z.string().min(1).optional() }).strict();

/** The owner a rule table names, if any. */
function tableOwner(rule: unknown): string | undefined {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return undefined;
  const owner = (rule as Record<string, unknown>).owner;
  return typeof owner === 'string' ? owner : undefined;
}

export function mayTouch(user: UserRecord, rule: RuleRecord): boolean {
  return user.role === 'admin' || rule.owner === user.name;
}

export function ruleRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store, rules } = context;

  /** The rule `:id` the request's user may act on: not_found, else forbidden. */
  const ruleFor = async (request: FastifyRequest<{ Params: { id: string } }>): Promise<RuleRecord> => {
    const rule = await store.rules.get(request.params.id);
    if (rule === null)
      throw new ServerError('not_found', `no rule with id ${JSON.stringify(request.params.id)}`);
    request.auditTarget = rule.id;
    const user = userOf(request);
    if (!mayTouch(user, rule)) {
      throw new ServerError(
        'forbidden',
        `rule ${rule.id} belongs to ${rule.owner}; ${user.name} may touch only its own rules`,
      );
    }
    return rule;
  };

  app.post('/v1/rules', { config: { action: 'rule.push' } }, async (request, reply) => {
    const user = userOf(request);
    const body = parseInput(pushBody, request.body);
    const fromTable = tableOwner(body.rule);
    if (body.owner !== undefined && fromTable !== undefined && body.owner !== fromTable) {
      throw new ServerError(
        'bad_request',
        `rule.owner: ${JSON.stringify(fromTable)} differs from owner ${JSON.stringify(body.owner)}; give one`,
      );
    }
    const owner = body.owner ?? fromTable ?? user.name;
    const table = validateRuleBody(body.rule, owner);
    const edge = await findEdgeOr404(context, body.edge, request);
    if (owner !== user.name && user.role !== 'admin') {
      throw new ServerError(
        'forbidden',
        `owner: only an admin may push a rule for another owner (${owner}); ${user.name} is a user`,
      );
    }
    const rule = await rules.create(edge, owner, table);
    request.auditTarget = rule.id;
    context.logger.info({ ruleId: rule.id, edge: edge.name, owner, name: rule.name }, 'rule active');
    return reply.code(201).send(ruleView(rule));
  });

  app.get('/v1/rules', async (request) => {
    const user = userOf(request);
    const query = parseInput(listQuery, request.query, 'query');
    const edgeId = query.edge === undefined ? undefined : (await findEdgeOr404(context, query.edge)).id;
    const owner = user.role === 'admin' ? undefined : user.name;
    return { rules: (await store.rules.list({ edgeId, owner })).map(ruleView) };
  });

  app.get<{ Params: { id: string } }>('/v1/rules/:id', async (request) => ruleView(await ruleFor(request)));

  app.put<{ Params: { id: string } }>(
    '/v1/rules/:id',
    { config: { action: 'rule.update' } },
    async (request) => {
      const rule = await ruleFor(request);
      if (rule.state === 'removed') throw new ServerError('not_found', `rule ${rule.id} is removed`);
      const body = parseInput(updateBody, request.body);
      const fromTable = tableOwner(body.rule);
      if (fromTable !== undefined && fromTable !== rule.owner) {
        throw new ServerError(
          'bad_request',
          `rule.owner: the rule belongs to ${rule.owner}; an update cannot change its owner`,
        );
      }
      const table = validateRuleBody(body.rule, rule.owner);
      const updated = await rules.update(rule, table);
      context.logger.info({ ruleId: rule.id, revision: updated.revision }, 'rule updated');
      return ruleView(updated);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/rules/:id',
    { config: { action: 'rule.remove' } },
    async (request) => {
      const rule = await ruleFor(request);
      if (rule.state === 'removed') return ruleView(rule);
      const removed = await rules.remove(rule);
      context.logger.info({ ruleId: rule.id }, 'rule removed');
      return ruleView(removed);
    },
  );

  app.get<{ Params: { id: string } }>('/v1/rules/:id/stats', async (request) => {
    const rule = await ruleFor(request);
    return statsView(rule.id, await store.stats.get(rule.id));
  });
}
