// /v1/rules: push, list, show, update, remove, and a rule's stats. A `user` token sees and
// touches only the rules it owns; an admin's sees all and may push for another owner.

import {
  listRulesQuerySchema,
  pushRuleBodySchema,
  type RuleList,
  type RuleParams,
  type RuleTable,
  ruleParamsSchema,
  updateRuleBodySchema,
} from '@sluice/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiError } from '../errors.ts';
import { checkGranted } from '../grant-check.ts';
import { mayTouch, validateRuleBody } from '../rule-service.ts';
import type { RuleRecord } from '../store/records.ts';
import { checkTenantPolicy } from '../tenant-policy.ts';
import { type ApiContext, recordChange, userOf } from './api-context.ts';
import { findEdgeOr404 } from './edge-routes.ts';
import { parseInput } from './parse-body.ts';
import { ruleView, statsView } from './views.ts';

/** The owner a rule table names, if any. */
function tableOwner(rule: RuleTable): string | undefined {
  return typeof rule.owner === 'string' ? rule.owner : undefined;
}

export function ruleRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store, rules } = context;

  /**
   * The rule `:id` the request's user may act on. Another owner's rule is not_found, word for word
   * as a rule that does not exist: a user cannot learn which rule ids exist.
   */
  const ruleFor = async (request: FastifyRequest<{ Params: RuleParams }>): Promise<RuleRecord> => {
    const { id } = parseInput(ruleParamsSchema, request.params, 'params');
    const rule = await store.rules.get(id);
    request.auditTarget = id;
    if (rule === null || !mayTouch(userOf(request), rule)) {
      throw apiError('not_found', `no rule with id ${JSON.stringify(id)}`);
    }
    return rule;
  };

  app.post('/v1/rules', { config: { action: 'rule.push' } }, async (request, reply) => {
    const user = userOf(request);
    const body = parseInput(pushRuleBodySchema, request.body);
    const fromTable = tableOwner(body.rule);
    if (body.owner !== undefined && fromTable !== undefined && body.owner !== fromTable) {
      throw apiError(
        'bad_request',
        `rule.owner: ${JSON.stringify(fromTable)} differs from owner ${JSON.stringify(body.owner)}; give one`,
      );
    }
    const owner = body.owner ?? fromTable ?? user.name;
    const table = validateRuleBody(body.rule, owner);
    const edge = await findEdgeOr404(context, body.edge, request);
    if (owner !== user.name && user.role !== 'admin') {
      throw apiError(
        'forbidden',
        `owner: only an admin may push a rule for another owner (${owner}); ${user.name} is a user`,
      );
    }
    await checkGranted(store, user, edge, table);
    await checkTenantPolicy(store, context.tenants, user, edge, table);
    const rule = await rules.create(edge, owner, table, user);
    request.auditTarget = rule.id;
    recordChange(request, null, ruleView(rule));
    context.logger.info({ ruleId: rule.id, edge: edge.name, owner, name: rule.name }, 'rule active');
    return reply.code(201).send(ruleView(rule));
  });

  app.get('/v1/rules', async (request) => {
    const user = userOf(request);
    const query = parseInput(listRulesQuerySchema, request.query, 'query');
    const edgeId = query.edge === undefined ? undefined : (await findEdgeOr404(context, query.edge)).id;
    const owner = user.role === 'admin' ? undefined : user.name;
    return { rules: (await store.rules.list({ edgeId, owner })).map(ruleView) } satisfies RuleList;
  });

  app.get<{ Params: RuleParams }>('/v1/rules/:id', async (request) => ruleView(await ruleFor(request)));

  app.put<{ Params: RuleParams }>('/v1/rules/:id', { config: { action: 'rule.update' } }, async (request) => {
    const rule = await ruleFor(request);
    if (rule.state === 'removed') throw apiError('not_found', `rule ${rule.id} is removed`);
    const body = parseInput(updateRuleBodySchema, request.body);
    const fromTable = tableOwner(body.rule);
    if (fromTable !== undefined && fromTable !== rule.owner) {
      throw apiError(
        'bad_request',
        `rule.owner: the rule belongs to ${rule.owner}; an update cannot change its owner`,
      );
    }
    const table = validateRuleBody(body.rule, rule.owner);
    const edge = { id: rule.edgeId, name: rule.edgeName };
    await checkGranted(store, userOf(request), edge, table);
    await checkTenantPolicy(store, context.tenants, userOf(request), edge, table);
    const updated = await rules.update(rule, table, userOf(request));
    recordChange(request, ruleView(rule), ruleView(updated));
    context.logger.info({ ruleId: rule.id, revision: updated.revision }, 'rule updated');
    return ruleView(updated);
  });

  app.delete<{ Params: RuleParams }>(
    '/v1/rules/:id',
    { config: { action: 'rule.remove' } },
    async (request) => {
      const rule = await ruleFor(request);
      if (rule.state === 'removed') return ruleView(rule);
      recordChange(request, ruleView(rule), null);
      const removed = await rules.remove(rule);
      context.logger.info({ ruleId: rule.id }, 'rule removed');
      return ruleView(removed);
    },
  );

  app.get<{ Params: RuleParams }>('/v1/rules/:id/stats', async (request) => {
    const rule = await ruleFor(request);
    return statsView(rule.id, await store.stats.get(rule.id));
  });
}
