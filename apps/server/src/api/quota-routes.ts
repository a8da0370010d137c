// /v1/users/:user/quotas: a user's monthly quota on each edge. An admin sets, clears and removes
// them; a user may read their own. Every change is pushed to the edge as its owners' budgets
// (all of them: the edge replaces its set); an edge offline now gets them with its next full push.

import {
  isoTime,
  isoTimeOrNull,
  type Quota,
  type QuotaList,
  type QuotaParams,
  quotaBodySchema,
  quotaParamsSchema,
  type UserParams,
  userParamsSchema,
} from '@sluice/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiError } from '../errors.ts';
import { monthStart } from '../quota-period.ts';
import type { EdgeRecord, QuotaRecord, UserRecord } from '../store/records.ts';
import { type ApiContext, recordChange, userOf } from './api-context.ts';
import { findEdgeOr404 } from './edge-routes.ts';
import { parseInput } from './parse-body.ts';

export function quotaView(quota: QuotaRecord): Quota {
  return {
    user: { id: quota.userId, name: quota.userName },
    edge: { id: quota.edgeId, name: quota.edgeName },
    monthlyBytes: quota.monthlyBytes,
    periodAnchor: isoTime(quota.periodAnchor),
    periodStart: isoTime(quota.periodStart),
    periodEnd: isoTime(quota.periodEnd),
    usedBytes: quota.usedBytes,
    remainingBytes: Math.max(0, quota.monthlyBytes - quota.usedBytes),
    exhaustedAt: isoTimeOrNull(quota.exhaustedAt),
  };
}

export function quotaRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store, control } = context;

  /** The user `:user` names: the caller themselves, or anyone for an admin. */
  const userOr404 = async (request: FastifyRequest, idOrName: string): Promise<UserRecord> => {
    const caller = userOf(request);
    const user = idOrName === 'me' ? caller : await store.users.find(idOrName);
    if (user === null) throw apiError('not_found', `no user with id or name ${JSON.stringify(idOrName)}`);
    if (caller.role !== 'admin' && user.id !== caller.id)
      throw apiError('forbidden', `${caller.name} may see only their own quotas, not ${user.name}'s`);
    return user;
  };

  const target = async (request: FastifyRequest<{ Params: QuotaParams }>) => {
    const params = parseInput(quotaParamsSchema, request.params, 'params');
    const user = await userOr404(request, params.user);
    const edge = await findEdgeOr404(context, params.edge, request);
    request.auditTarget = `${user.id}/${edge.id}`;
    return { user, edge };
  };

  const noQuota = (user: UserRecord, edge: EdgeRecord) =>
    apiError('not_found', `user ${user.name} has no quota on edge ${edge.name}`);

  /** Sends the edge its budgets as stored now; an offline edge gets them on reconnect. */
  const pushBudgets = async (edge: EdgeRecord): Promise<void> => {
    const outcome = await control.pushQuotas(edge.id);
    if (outcome.kind === 'timeout' || outcome.kind === 'closed') {
      throw apiError(
        'ack_timeout',
        `edge ${edge.name} did not ack the quota within ${control.ackTimeoutMs} ms; it is stored and pushed again when the edge reconnects`,
      );
    }
  };

  app.get<{ Params: UserParams }>('/v1/users/:user/quotas', async (request) => {
    const user = await userOr404(request, parseInput(userParamsSchema, request.params, 'params').user);
    return { quotas: (await store.quotas.list({ userId: user.id })).map(quotaView) } satisfies QuotaList;
  });

  app.put<{ Params: QuotaParams }>(
    '/v1/users/:user/quotas/:edge',
    { config: { action: 'quota.set', admin: true } },
    async (request) => {
      const body = parseInput(quotaBodySchema, request.body);
      const { user, edge } = await target(request);
      const before = await store.quotas.get(user.id, edge.id);
      const anchor =
        body.periodAnchor === undefined ? monthStart(context.now()) : Date.parse(body.periodAnchor);
      const quota = await store.quotas.set(user.id, edge.id, body.monthlyBytes, anchor);
      recordChange(request, before === null ? null : quotaView(before), quotaView(quota));
      context.logger.info(
        { user: user.name, edge: edge.name, monthlyBytes: quota.monthlyBytes },
        'quota set',
      );
      await pushBudgets(edge);
      return quotaView(quota);
    },
  );

  app.get<{ Params: QuotaParams }>('/v1/users/:user/quotas/:edge', async (request) => {
    const { user, edge } = await target(request);
    const quota = await store.quotas.get(user.id, edge.id);
    if (quota === null) throw noQuota(user, edge);
    return quotaView(quota);
  });

  app.post<{ Params: QuotaParams }>(
    '/v1/users/:user/quotas/:edge/clear',
    { config: { action: 'quota.clear', admin: true } },
    async (request) => {
      const { user, edge } = await target(request);
      const before = await store.quotas.get(user.id, edge.id);
      const quota = await store.quotas.clear(user.id, edge.id);
      if (before === null || quota === null) throw noQuota(user, edge);
      recordChange(request, quotaView(before), quotaView(quota));
      context.logger.info({ user: user.name, edge: edge.name }, 'quota usage cleared');
      await pushBudgets(edge);
      return quotaView(quota);
    },
  );

  app.delete<{ Params: QuotaParams }>(
    '/v1/users/:user/quotas/:edge',
    { config: { action: 'quota.delete', admin: true } },
    async (request, reply) => {
      const { user, edge } = await target(request);
      const before = await store.quotas.get(user.id, edge.id);
      if (before === null || !(await store.quotas.delete(user.id, edge.id))) throw noQuota(user, edge);
      recordChange(request, quotaView(before), null);
      context.logger.info({ user: user.name, edge: edge.name }, 'quota removed');
      await pushBudgets(edge);
      return reply.code(204).send();
    },
  );
}
